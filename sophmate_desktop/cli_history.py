"""What happened: `runs show`, `review`, the `audit` trail's export and check, and
`notifications list/ack` (with each notice's delivery outcomes)."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from sophmate_desktop import cli_format as fmt
from sophmate_desktop.console import Console
from sophmate_desktop.domain.errors import SophmateError


def cmd_runs_show(c: Console, a: argparse.Namespace) -> str:
    """The run's plain-language account first, then its fields, writes and timeline."""
    details = c.run_details(a.id)  # an unknown id: NotFound, "no run with id N", exit 2
    writes, timeline = details.writes, details.timeline
    run = fmt.with_write_error(details.run, writes)
    owner, rollback = _owner_and_rollback(c, run.workflow)
    if not a.json:
        return fmt.run_text(
            run, writes, timeline, details.account, owner, rollback, details.prompts
        )
    return fmt.to_json(
        {
            "run": run.to_dict() | {"owner": owner, "rollback": rollback},
            "account": details.account.to_dict(),
            "writes": [w.to_dict() for w in writes],
            "prompts": [p.to_dict() for p in details.prompts],
            "timeline": [e.to_dict() for e in timeline],
        }
    )


def _owner_and_rollback(c: Console, workflow: str) -> tuple[str | None, str | None]:
    try:
        return c.get_workflow(workflow).owner, c.get_definition(workflow).rollback
    except SophmateError:  # the workflow was deleted; its runs stay
        return None, None


def cmd_review(c: Console, a: argparse.Namespace) -> str:
    run_ids = None
    if a.runs is not None:
        run_ids = [part.strip() for part in a.runs.split(",") if part.strip()]
    row = c.record_review(a.name, a.kind, a.notes or "", run_ids)
    if a.json:
        return fmt.to_json(row.to_dict())
    return f"{row.kind} review of {row.workflow} recorded by {row.reviewer}"


def audit_filters(a: argparse.Namespace) -> dict[str, Any]:
    keys = ("workflow", "action", "category", "since", "until")
    return {"actor": a.filter_actor} | {k: getattr(a, k) for k in keys}


def cmd_audit_export(c: Console, a: argparse.Namespace) -> str:
    with fmt.output(a.output, newline="" if a.format == "csv" else None) as handle:
        count = c.export_audit(a.format, handle, **audit_filters(a))
    return "" if a.output in (None, "-") else f"exported {count} audit events to {a.output}"


def cmd_audit_verify(c: Console, a: argparse.Namespace) -> tuple[str, int]:
    c.check_integrity()  # the full PRAGMA integrity_check: a corrupt file exits 14
    result = c.verify_audit()
    text = fmt.to_json(result.to_dict()) if a.json else result.describe()
    return text, 0 if result.ok else 1


def cmd_audit_verify_export(a: argparse.Namespace) -> tuple[str, int]:
    """`audit verify --export FILE`: the copy alone, no database opened (an auditor's
    machine has none); the audit key comes from this keyring when it holds it."""
    from sophmate_desktop.secrets import SecretStore, SecretsUnavailable, audit_key
    from sophmate_desktop.store import audit_export

    try:
        key: bytes | None = audit_key(SecretStore(), create=False)
        why = None
    except SecretsUnavailable as exc:
        key, why = None, str(exc)
    result = audit_export.verify_export(a.export, key)
    if why is not None:
        result.notes.insert(0, f"no audit key: {why}")
    text = fmt.to_json(result.to_dict()) if a.json else result.describe()
    return text, 0 if result.ok else 1


def cmd_audit_mirror(c: Console, a: argparse.Namespace) -> str:
    c.set_checkpoint_mirror(a.target)
    if not a.target:
        return "audit checkpoints are kept in the data folder only"
    return f"audit checkpoints are also copied to {a.target}"


def cmd_runs_retry(c: Console, a: argparse.Namespace) -> str:
    row = c.retry_run(a.id, a.reason)
    if a.json:
        return fmt.to_json(row.to_dict())
    text = f"run {row.id} queued: a retry of run {a.id} ({row.workflow}, {row.status})"
    if row.status == "held":
        text += f"; a kill switch holds it: `{fmt.PROG} held replay {row.id}` once resumed"
    return text


def cmd_runs_undo(c: Console, a: argparse.Namespace) -> str:
    result = c.undo_run(a.id)
    return fmt.to_json(result.to_dict()) if a.json else result.describe()


def runs_with_errors(c: Console, a: argparse.Namespace) -> list:
    """`runs list`: a run that failed on a write shows that write's error."""
    return [
        fmt.with_write_error(run, c.run_writes(run.id) if _needs_write_error(run) else ())
        for run in c.list_runs(workflow=a.workflow, limit=a.limit)
    ]


def _needs_write_error(run: Any) -> bool:
    return run.status == "failed" and not run.error and run.writes > 0


def _delivery_text(d: dict) -> str:
    why = f": {fmt.truncate(d['error'], 200)}" if d["error"] else ""
    return f"    -> {d['target']}: {d['status']} (attempts {d['attempts']}){why}"


def cmd_notifications_list(c: Console, a: argparse.Namespace) -> str:
    """Notices newest first, each with who outside the window was told and how it went."""
    notes = c.notices_with_deliveries(a.limit)
    if a.json:
        return fmt.to_json(notes)
    if not notes:
        return "No notifications."
    lines = []
    for n in notes:
        ack = f" (acknowledged by {n['acknowledged_by']})" if n["acknowledged_by"] else ""
        count = f" x{n['count']}" if n["count"] > 1 else ""
        lines.append(
            f"{n['id']:>5}  {fmt.iso_minute(n['at'])}  {n['level']:<7} {n['title']}{count}{ack}"
        )
        lines += [_delivery_text(d) for d in n["deliveries"]]
    return "\n".join(lines)


def cmd_notifications_ack(c: Console, a: argparse.Namespace) -> str:
    row = c.acknowledge_notice(a.id, a.comment)
    if a.json:
        return fmt.to_json(row.to_dict() if hasattr(row, "to_dict") else dataclasses.asdict(row))
    return f"notice {row.id} acknowledged by {row.acknowledged_by}"
