"""`inbox` commands: list, show, approve and reject writes; settle interrupted ones.

`inbox show` prints the preview as the inbox pane shows it, in plain text: a
write_file as its unified diff (a new file as added lines), an e-mail or an HTTP
request as headers then body, a command with its argv one argument a line.
"""

from __future__ import annotations

import argparse
import shlex

from sophmate_desktop import cli_format as fmt
from sophmate_desktop.console import Console
from sophmate_desktop.store.rows import WriteRow


def inbox_rows(c: Console, a: argparse.Namespace) -> list:
    filters = {"category": a.category, "workflow": a.workflow, "kind": a.kind}
    return c.list_inbox(include_all=a.all, limit=a.limit, **filters)


def _decisions(results: list, as_json: bool = False) -> tuple[str, int]:
    """One line per write: ok lines on stdout, refusals on stderr; the worst exit code.
    With --json, one object per write on stdout, refusals included."""
    worst = max((r.exit_code or 1 for r in results if not r.ok), default=0)
    if as_json:
        return fmt.rows_json(results), worst
    lines = []
    for r in results:
        if r.ok:
            lines.append(f"ok: {r.message}")
        else:
            fmt.err("refused" if r.exit_code == 3 else "error", r.message)
    return "\n".join(lines), worst


def cmd_inbox_undo(c: Console, a: argparse.Namespace) -> str:
    result = c.undo_write(a.id)
    return fmt.to_json(result.to_dict()) if a.json else result.describe()


def cmd_inbox_approve(c: Console, a: argparse.Namespace) -> tuple[str, int]:
    return _decisions(c.approve(a.ids, a.comment), a.json)


def cmd_inbox_reject(c: Console, a: argparse.Namespace) -> tuple[str, int]:
    return _decisions(c.reject(a.ids, a.comment), a.json)


def cmd_inbox_mark_applied(c: Console, a: argparse.Namespace) -> str:
    row = c.mark_applied(a.id, a.comment)
    if a.json:
        return fmt.to_json(row.to_dict())
    return f"write {row.id} marked applied (run {row.run_id} is {c.get_run(row.run_id).status})"


def cmd_inbox_retry(c: Console, a: argparse.Namespace) -> str:
    row = c.retry_write(a.id, a.comment)
    waits = c.waits_for_resume(row.workflow)
    if a.json:
        return fmt.to_json({**row.to_dict(), "waits_for_resume": waits})
    if waits:
        return f"write {row.id} approved again; it waits for the resume: {waits}"
    return f"write {row.id} approved again; the engine applies it on its next pass"


def preview_text(kind: str, preview: str) -> str:
    """A write's preview as plain text, laid out as the inbox pane lays it out."""
    lines = preview.splitlines()
    if kind == "write_file" and lines and lines[0].startswith("new file: "):
        body = [f"+{line}" for line in lines[1:]]
        return "\n".join([lines[0], f"@@ new file, {len(body)} lines @@", *body])
    if kind == "run_command" and lines:
        try:
            argv = shlex.split(lines[0])
        except ValueError:
            argv = []
        out = [f"$ {lines[0]}"]
        if argv:
            out += ["", "argv (no shell):", *(f"  [{i}] {arg}" for i, arg in enumerate(argv))]
        return "\n".join(out + (["", *lines[1:]] if lines[1:] else []))
    return preview


def _decided(row: WriteRow) -> str | None:
    if not row.decided_by or row.decided_at is None:
        return None
    text = f"{row.decided_by} at {fmt.cell(row.decided_at)}"
    return text + (f": {row.comment}" if row.comment else "")


def cmd_inbox_show(c: Console, a: argparse.Namespace) -> str:
    row = c.get_write(a.id)  # an unknown id: NotFound, exit 2
    if a.json:
        return fmt.to_json(row.to_dict() | {"preview_text": preview_text(row.kind, row.preview)})
    facts = fmt.fields(
        [
            ("write", f"{row.id} (run {row.run_id}, step {row.seq})"),
            ("workflow", f"{row.workflow} ({row.category})"),
            ("action", f"{row.kind} ({row.effect})"),
            ("target", row.target),
            ("summary", row.summary),
            ("customer-facing", row.customer_facing),
            ("AI-drafted", row.ai_drafted),
            ("status", row.status_text),
            ("created", row.created_at),
            ("decided", _decided(row)),
            ("applied", row.applied_at),
            ("error", row.error),
        ]
    )
    return f"{facts}\n\nPreview:\n{preview_text(row.kind, row.preview)}"
