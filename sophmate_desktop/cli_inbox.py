"""`inbox` commands: list, approve and reject writes; settle interrupted ones."""

from __future__ import annotations

import argparse

from sophmate_desktop import cli_format as fmt
from sophmate_desktop.console import Console


def inbox_rows(c: Console, a: argparse.Namespace) -> list:
    filters = {"category": a.category, "workflow": a.workflow, "kind": a.kind}
    return c.list_inbox(include_all=a.all, limit=a.limit, **filters)


def _decisions(results: list) -> tuple[str, int]:
    """One line per write: ok lines on stdout, refusals on stderr; the worst exit code."""
    lines, worst = [], 0
    for r in results:
        if r.ok:
            lines.append(f"ok: {r.message}")
        else:
            fmt.err("refused" if r.exit_code == 3 else "error", r.message)
            worst = max(worst, r.exit_code or 1)
    return "\n".join(lines), worst


def cmd_inbox_approve(c: Console, a: argparse.Namespace) -> tuple[str, int]:
    return _decisions(c.approve(a.ids, a.comment))


def cmd_inbox_reject(c: Console, a: argparse.Namespace) -> tuple[str, int]:
    return _decisions(c.reject(a.ids, a.comment))


def cmd_inbox_mark_applied(c: Console, a: argparse.Namespace) -> str:
    row = c.mark_applied(a.id, a.comment)
    return f"write {row.id} marked applied (run {row.run_id} is {c.get_run(row.run_id).status})"


def cmd_inbox_retry(c: Console, a: argparse.Namespace) -> str:
    row = c.retry_write(a.id, a.comment)
    waits = c.waits_for_resume(row.workflow)
    if waits:
        return f"write {row.id} approved again; it waits for the resume: {waits}"
    return f"write {row.id} approved again; the engine applies it on its next pass"
