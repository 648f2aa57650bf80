"""A shell in argv may not run a script a template fills in, unless every value goes
through shell_quote (issue 14 item 8): refused and accepted argv at validation, and
the filter itself. The real run is in tests/engine/actions/test_command_shell.py."""

from __future__ import annotations

import json
import shlex
import subprocess

import pytest

from sophmate_desktop.domain.argv_shell import program_name, shell_script_problem
from sophmate_desktop.domain.templates import TemplateRenderError, render
from sophmate_desktop.domain.workflow_file import WorkflowFileError, parse_workflow_yaml

NAME = "{{ file.name }}"
QUOTED = "{{ file.name | shell_quote }}"

REFUSED = [
    (["sh", "-c", f"echo {NAME}"], 2),
    (["/bin/sh", "-c", f"echo {NAME}"], 2),
    (["bash", "-c", f"cat {NAME}"], 2),
    (["/usr/bin/bash", "-lc", f"cat {NAME}"], 2),
    (["bash", "-ec", f"cat {NAME}"], 2),
    (["dash", "-e", "-c", f"cat {NAME}"], 3),
    (["zsh", "-c", f"cat {NAME}"], 2),
    (["ksh", "-o", "errexit", "-c", "echo {{ row.x }}"], 4),
    (["bash", "--norc", "-c", "--", f"echo {NAME}"], 4),
    (["env", "sh", "-c", f"echo {NAME}"], 3),
    (["/usr/bin/env", "bash", "-c", f"echo {NAME}"], 3),
    (["env", "-i", "PATH=/bin", "bash", "-c", f"echo {NAME}"], 5),
    (["env", "-S", f"sh -c 'echo {NAME}'"], 2),
    (["busybox", "sh", "-c", f"echo {NAME}"], 3),
    (["timeout", "5", "bash", "-c", f"echo {NAME}"], 4),
    (["fish", "-c", f"echo {QUOTED}"], 2),  # fish does not quote like POSIX
    (["fish", f"--command=echo {NAME}"], 1),
    (["cmd", "/c", f"type {NAME}"], 2),
    (["C:\\Windows\\System32\\cmd.exe", "/C", f"type {QUOTED}"], 2),
    (["powershell", "-Command", f"Get-Content {NAME}"], 2),
    (["pwsh", "-c", f"Get-Content {QUOTED}"], 2),
    # The filter, but not as the last step, or where the script's own quotes undo it.
    (["sh", "-c", "echo {{ file.name | shell_quote | upper }}"], 2),
    (["sh", "-c", f"echo '{QUOTED}'"], 2),
    (["sh", "-c", f'echo "{QUOTED}"'], 2),
    (["sh", "-c", f"echo \\{QUOTED}"], 2),
    (["sh", "-c", f"echo {QUOTED} {{{{ file.stem }}}}"], 2),
    (["sh", "-c", "{% for r in input %}echo {{ r.x }};{% endfor %}"], 2),
    (["sh", "-c", "echo {% filter shell_quote %}{{ file.name }}{% endfilter %}"], 2),
]

ACCEPTED = [
    ["sh", "-c", f"echo {QUOTED}"],
    ["/bin/bash", "-lc", f"cat {QUOTED} | wc -l"],
    ["env", "sh", "-c", f"echo {QUOTED}"],
    ["sh", "-c", "echo {{ file.name | lower | shell_quote }}"],
    ["sh", "-c", "{% for r in input %}echo {{ r.x | shell_quote }};{% endfor %}"],
    ["sh", "-c", "echo 'it''s' \"a\\\"b\" {{ file.name | shell_quote }}"],
    ["sh", "-c", "echo {{ 'a constant' }}"],
    ["sh", "-c", 'echo "$1"', "sh", NAME],  # positional parameters are not parsed
    ["sh", "script.sh", NAME],
    ["echo", NAME],
    ["grep", "-c", NAME, "{{ file.path }}"],  # -c of a program that is not a shell
    ["python3", "-c", "import sys; print(sys.argv[1])", NAME],
    ["pwsh", "-File", "convert.ps1", NAME],
    ["sh", "-c", "echo static"],
]


@pytest.mark.parametrize(("argv", "index"), REFUSED, ids=lambda v: str(v))
def test_a_shell_running_templated_text_is_refused(argv: list[str], index: int) -> None:
    problem = shell_script_problem(argv)
    assert problem is not None and problem[0] == index, problem


@pytest.mark.parametrize("argv", ACCEPTED, ids=lambda v: str(v))
def test_quoted_values_and_separate_arguments_are_accepted(argv: list[str]) -> None:
    assert shell_script_problem(argv) is None


def test_program_names() -> None:
    assert program_name("/usr/bin/Bash") == "bash"
    assert program_name("C:\\Windows\\System32\\cmd.exe") == "cmd"
    assert program_name("pwsh.EXE") == "pwsh"


def _command_doc(argv: list[str]) -> str:
    return (
        "name: demo\ncategory: ops\nsteps:\n  - action: run_command\n"
        f"    name: announce\n    argv: {json.dumps(argv)}\n"
    )


def test_validation_names_the_step_and_suggests_the_filter() -> None:
    with pytest.raises(WorkflowFileError) as info:
        parse_workflow_yaml(_command_doc(["bash", "-lc", f"echo {NAME}"]))
    (error,) = info.value.errors
    assert error.path == "steps[0].argv[2]"
    assert error.line == 6
    assert "bash runs this script" in error.message
    assert "(file.name)" in error.message
    assert "{{ file.name | shell_quote }}" in error.message


def test_validation_accepts_the_quoted_form() -> None:
    (step,) = parse_workflow_yaml(_command_doc(["sh", "-c", f"echo {QUOTED}"])).steps
    assert step.params["argv"] == ["sh", "-c", f"echo {QUOTED}"]


@pytest.mark.parametrize(
    "value", ["x; touch pwned", "$(id)", "`id`", "a'b", "", "new\nline", "*", "-n"]
)
def test_shell_quote_gives_one_shell_word(value: str) -> None:
    rendered = render(f"printf %s {QUOTED}", {"file": {"name": value}})
    assert shlex.split(rendered) == ["printf", "%s", value]
    out = subprocess.run(["sh", "-c", rendered], capture_output=True, text=True, check=True)
    assert out.stdout == value


def test_shell_quote_refuses_a_secret_reference() -> None:
    with pytest.raises(TemplateRenderError, match="a secret cannot go through shell_quote"):
        render("echo {{ secret.token | shell_quote }}", {})
    assert render("{{ 42 | shell_quote }}", {}) == "42"
