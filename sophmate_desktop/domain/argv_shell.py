"""A shell in `argv` may not run text a template filled in (issue 14 item 8).

Commands run without a shell, so a templated argument is one argument whatever it
holds. A workflow can still name a shell itself: in `argv: [sh, -c, "echo {{ file.name
}}"]` the shell parses the rendered script, and a file named `x; rm -rf ~` runs `rm`.
`shell_script_problem` finds such an argv at validation: the program is a shell (by
its base name, also behind `env`, `busybox`, `nice`, `timeout`... and with a path such
as /bin/sh), it is given a script to run (`-c`, `-lc`, fish's `--command`; for cmd
and PowerShell every argument after the program), and that script holds a template
expression that does not end in the `shell_quote` filter (POSIX quoting, shlex.quote)
or that stands inside the script's own quotes or after a backslash. Cmd, PowerShell,
fish and csh do not quote like POSIX shells, so for them no filter is enough.
Values passed as separate arguments after the script (`sh -c 'echo "$1"' sh "{{ x }}"`)
are not parsed by the shell and stay allowed.
"""

from __future__ import annotations

from collections.abc import Sequence

import jinja2
from jinja2 import nodes

from sophmate_desktop.domain.templates import ENVIRONMENT, SHELL_QUOTE

POSIX_SHELLS = frozenset(
    {
        "sh",
        "bash",
        "dash",
        "zsh",
        "ksh",
        "mksh",
        "pdksh",
        "ash",
        "yash",
        "rbash",
        "posh",
        "oksh",
        "loksh",
        "fish",
        "csh",
        "tcsh",
    }
)
# Shells whose quoting differs from POSIX (fish reads \' inside '...'): no filter helps.
UNQUOTABLE = frozenset({"fish", "csh", "tcsh"})
WINDOWS_SHELLS = frozenset({"cmd", "powershell", "pwsh"})
# Programs that run the program named by a later argument.
WRAPPERS = frozenset(
    {
        "env",
        "busybox",
        "toybox",
        "nice",
        "nohup",
        "setsid",
        "timeout",
        "stdbuf",
        "ionice",
        "chrt",
        "taskset",
        "sudo",
        "doas",
        "time",
        "exec",
        "command",
        "flock",
        "unbuffer",
        "xargs",
        "strace",
        "ltrace",
        "chronic",
        "systemd-run",
        "runuser",
        "su",
    }
)
# Options of a POSIX shell that take the next argument as their value.
_VALUE_OPTIONS = frozenset({"-o", "+o", "-O", "+O", "--rcfile", "--init-file"})
_FIX = (
    "Quote each value for the shell with the shell_quote filter, outside the script's "
    "own quotes, e.g. "
    "{{ file.name | shell_quote }}, or pass it as a separate argument after the script "
    "(argv: [sh, -c, 'echo \"$1\"', sh, '{{ file.name }}'])"
)


def program_name(arg: str) -> str:
    """`/usr/bin/Bash`, `C:\\Windows\\cmd.exe` -> `bash`, `cmd`."""
    base = arg.strip().replace("\\", "/").rsplit("/", 1)[-1].lower()
    return base[:-4] if base.endswith(".exe") else base


def _is_shell(arg: str) -> bool:
    name = program_name(arg)
    return name in POSIX_SHELLS or name in WINDOWS_SHELLS


def _shell_at(argv: Sequence[str]) -> int | None:
    """Where the shell that argv runs is: the program, or any argument of a wrapper
    program (`env sh`, `timeout 5 bash`, `busybox sh`); a false alarm costs a quote."""
    if not argv or not (_is_shell(argv[0]) or program_name(argv[0]) in WRAPPERS):
        return None
    return next((i for i, arg in enumerate(argv) if _is_shell(arg)), None)


def _wrapped_line(argv: Sequence[str]) -> tuple[int, str] | None:
    """A wrapper given a whole templated command line (`env -S "sh -c '... {{ x }}'"`)."""
    if not argv or program_name(argv[0]) not in WRAPPERS:
        return None
    for i, arg in enumerate(argv[1:], start=1):
        words = arg.split()
        if len(words) > 1 and _is_shell(words[0]) and _is_template(arg):
            return i, (
                f"{program_name(argv[0])} is given a shell command line with a template in "
                "it: data in it would run as commands. Give the shell and each argument "
                "separately, and " + _FIX[0].lower() + _FIX[1:]
            )
    return None


def _windows_problem(args: Sequence[str], shell: int, name: str) -> tuple[int, str] | None:
    """cmd and PowerShell parse their arguments as a command line (PowerShell's
    `-File SCRIPT` arguments excepted): no templated argument there."""
    for i in range(shell + 1, len(args)):
        if name != "cmd" and args[i].lower() in ("-file", "-f"):
            return None
        if _is_template(args[i]):
            return i, (
                f"{name} parses its arguments as a command line, and this one is a "
                "template: data in it would run as commands (shell_quote quotes for POSIX "
                "shells, not for cmd or PowerShell). Run a script with PowerShell -File and "
                "the values as its arguments, or a program that takes separate arguments"
            )
    return None


def _script_at(argv: Sequence[str], shell: int) -> int | None:
    """The index of the script a POSIX shell is told to run (`-c`), if any."""
    j, told = shell + 1, False
    while j < len(argv):
        arg = argv[j]
        if arg.startswith("--command="):  # fish
            return j
        if arg in ("--command", "-C") and program_name(argv[shell]) == "fish":
            told = True
        elif arg in ("-", "--"):
            j += 1
            break
        elif arg in _VALUE_OPTIONS:
            j += 1
        elif not (arg.startswith(("-", "+")) and len(arg) > 1):
            break
        elif not arg.startswith("--") and "c" in arg[1:]:
            told = True
        j += 1
    return j if told and j < len(argv) else None


class _Quoting:
    """The POSIX quoting state along a script: inside '...', "...", or after a \\."""

    def __init__(self) -> None:
        self.quote = ""
        self.escaped = False

    def feed(self, text: str) -> None:
        for ch in text:
            if self.escaped:
                self.escaped = False
            elif ch == "\\" and self.quote != "'":
                self.escaped = True
            elif not self.quote and ch in "'\"":
                self.quote = ch
            elif ch == self.quote:
                self.quote = ""

    @property
    def plain(self) -> bool:
        return not self.quote and not self.escaped


def unquoted_expressions(text: str) -> list[str]:
    """The expressions of template `text` that put data into the script without the
    shell_quote filter as their last step, or with it but inside quotes or after a
    backslash (where the quotes it adds would end the script's own). Constants are not
    data. Control blocks are read in document order."""
    try:
        tree = ENVIRONMENT.parse(text)
    except jinja2.TemplateSyntaxError:
        return []  # reported by the template check
    found: list[str] = []
    state = _Quoting()
    for output in tree.find_all(nodes.Output):
        for node in output.nodes:
            if isinstance(node, nodes.TemplateData | nodes.Const):
                state.feed(str(node.data if isinstance(node, nodes.TemplateData) else node.value))
            elif not (isinstance(node, nodes.Filter) and node.name == SHELL_QUOTE):
                found.append(_describe(node))
            elif not state.plain:
                found.append(f"{_describe(node.node)} | shell_quote inside quotes")
    if any(True for _ in tree.find_all(nodes.FilterBlock)):
        found.append("{% filter %} block")
    return found


def _describe(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        inner = _describe(node.node)
        return f"{inner}.{node.attr}"
    if isinstance(node, nodes.Filter):
        return f"... | {node.name}"
    return "an expression"


def _is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def shell_script_problem(argv: Sequence[object]) -> tuple[int, str] | None:
    """(index of the argument, what is wrong) when a shell in `argv` would parse text
    a template fills in; None when argv is safe (or not a shell command)."""
    if not all(isinstance(a, str) for a in argv):
        return None  # the type errors are reported elsewhere
    args: list[str] = [a for a in argv if isinstance(a, str)]
    wrapped = _wrapped_line(args)
    if wrapped is not None:
        return wrapped
    shell = _shell_at(args)
    if shell is None:
        return None
    name = program_name(args[shell])
    if name in WINDOWS_SHELLS:
        return _windows_problem(args, shell, name)
    script = _script_at(args, shell)
    if script is None:
        return None
    text = args[script].removeprefix("--command=")
    if not _is_template(text):
        return None
    if name in UNQUOTABLE:
        return script, (
            f"{name} runs this script, and it is a template: data in it would run as "
            f"commands, and shell_quote quotes for POSIX shells, not for {name}. Pass each "
            f"value as a separate argument after the script ({name} reads them as $argv)"
        )
    bare = unquoted_expressions(text)
    if not bare:
        return None
    listed = ", ".join(dict.fromkeys(bare))
    return script, (
        f"{name} runs this script, and the template puts data into it unquoted "
        f"({listed}): a value such as 'x; rm -rf ~' would run as a command. {_FIX}"
    )
