"""Input-scope rules of the workflow file (issue 14 item 8), checked at validation.

- A recipient field (`send_email`'s `to`, `cc`; a notice's `email:ADDRESS`) holds one
  address: a literal value is checked here, a templated one when it is rendered (the
  plan fails naming the step, the field, the record and the value). Several
  recipients are a list in the file, one address per element.
- A shell in `run_command`'s argv may not run a script a template fills in, unless
  every value goes through `shell_quote` (see `argv_shell`).
"""

from __future__ import annotations

from typing import Any

from sophmate_desktop.domain.addresses import AddressError, one_address
from sophmate_desktop.domain.argv_shell import shell_script_problem
from sophmate_desktop.domain.workflow_fields import Ctx, index_path, join_path, short


def _literal(text: object) -> bool:
    return isinstance(text, str) and bool(text.strip()) and "{" not in text


def check_addresses(ctx: Ctx, m: dict, path: str, key: str) -> None:
    """Each literal value of recipient field `key` is exactly one address."""
    value: Any = m.get(key)
    p = join_path(path, key)
    if isinstance(value, str):
        items = [(p, value)]
    elif isinstance(value, list):
        items = [(index_path(p, i), item) for i, item in enumerate(value)]
    else:
        return
    for ip, item in items:
        if _literal(item):
            try:
                one_address(item)
            except AddressError as exc:
                ctx.error(ip, f"{short(item)} {exc}")


def check_notify_address(ctx: Ctx, path: str, address: str) -> None:
    """`email:ADDRESS`: one bare address (the notifier would split a list)."""
    try:
        one_address(address, bare=True)
    except AddressError as exc:
        ctx.error(path, f"{short(address)} {exc}")


def check_argv_shell(ctx: Ctx, argv: list, path: str) -> None:
    """A shell's `-c` script in argv with unquoted template data is refused."""
    problem = shell_script_problem(argv)
    if problem is not None:
        ctx.error(index_path(path, problem[0]), problem[1])
