"""What happened: `runs show`, `review` and the `audit` trail's export and check."""

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
