"""What happened: `runs show`, `review`, the `audit` trail's export and check, and
`notifications list/ack` (with each notice's delivery outcomes)."""

from __future__ import annotations

import argparse
from typing import Any

from sophmate_desktop import cli_format as fmt
from sophmate_desktop.console import Console


def cmd_runs_show(c: Console, a: argparse.Namespace) -> str:
    """The run's plain-language account first, then its fields, writes and timeline."""
    details = c.run_details(a.id)  # an unknown id: NotFound, "no run with id N", exit 2
    run, writes, timeline = details.run, details.writes, details.timeline
    if not a.json:
        return fmt.run_text(run, writes, timeline, details.account)
    return fmt.to_json(
        {
            "run": run.to_dict(),
            "account": details.account.to_dict(),
            "writes": [w.to_dict() for w in writes],
            "timeline": [e.to_dict() for e in timeline],
        }
    )


def cmd_review(c: Console, a: argparse.Namespace) -> str:
    row = c.record_review(a.name, a.kind, a.notes or "")
    return f"{row.kind} review of {row.workflow} recorded by {row.reviewer}"


def audit_filters(a: argparse.Namespace) -> dict[str, Any]:
    keys = ("workflow", "action", "category", "since", "until")
    return {"actor": a.filter_actor} | {k: getattr(a, k) for k in keys}


def cmd_audit_export(c: Console, a: argparse.Namespace) -> str:
    with fmt.output(a.output, newline="" if a.format == "csv" else None) as handle:
        count = c.export_audit(a.format, handle, **audit_filters(a))
    return "" if a.output in (None, "-") else f"exported {count} audit events to {a.output}"


def cmd_audit_verify(c: Console, a: argparse.Namespace) -> tuple[str, int]:
    result = c.verify_audit()
    return result.describe(), 0 if result.ok else 1


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
    return f"notice {row.id} acknowledged by {row.acknowledged_by}"
