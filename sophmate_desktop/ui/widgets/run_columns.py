"""Columns of the runs table, a run's writes and its audit timeline, and their colours.

Colour carries meaning only: red failed, amber waiting for a person, green done,
grey held or cancelled (as in the style sheet).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from PySide6.QtGui import QColor

from sophmate_desktop.domain.run_account import human_duration
from sophmate_desktop.ui.models.base import Column, Fetch

RED, AMBER, GREEN, GREY = QColor("#c62828"), QColor("#b26a00"), QColor("#2e7d32"), QColor("#78909c")
STATUS_COLOURS = {
    "failed": RED,
    "interrupted": RED,
    "awaiting_approval": AMBER,
    "pending": AMBER,
    "succeeded": GREEN,
    "applied": GREEN,
    "held": GREY,
    "cancelled": GREY,
    "rejected": GREY,
    "planned": GREY,
    "stale": GREY,
}
STATUS_WORDS = {"awaiting_approval": "awaiting approval", "dry_run": "dry run"}


def words(value: str | None) -> str:
    return "" if value is None else STATUS_WORDS.get(value, value.replace("_", " "))


def status_colour(row: Any) -> QColor | None:
    return STATUS_COLOURS.get(row.status)


def when(value: datetime | str | None) -> str:
    """A stored UTC time as "2026-11-27 10:02:03"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value[:19].replace("T", " ")


def cost_text(cost: float) -> str:
    """Two decimals; a prompt's fraction of a cent keeps four, not "0.00"."""
    if not cost:
        return ""
    return f"{cost:,.2f}" if cost >= 0.01 else f"{cost:.4f}"


def run_columns() -> list[Column]:
    return [
        Column("Run", lambda r: r.id, "id", align_right=True),
        Column("Workflow", lambda r: r.workflow, "workflow"),
        Column("Status", lambda r: words(r.status), "status", foreground=status_colour,
               tooltip=lambda r: r.error or ""),
        Column("Mode", lambda r: words(r.mode), "mode"),
        Column("Duration", lambda r: human_duration(r.duration_ms) or "", "duration",
               align_right=True),
        Column("Writes", lambda r: r.writes, "writes", align_right=True),
        Column("Records", lambda r: r.affected_records, "records", align_right=True),
        Column("Cost", lambda r: cost_text(r.cost), "cost", align_right=True),
        Column("Started (UTC)", lambda r: when(r.started_at or r.queued_at), "started"),
        Column("Trigger", lambda r: r.trigger_path or r.trigger_kind, None,
               tooltip=lambda r: f"{r.trigger_kind} {r.trigger_path or ''}".strip()),
    ]  # fmt: skip


def write_columns() -> list[Column]:
    def decided(w: Any) -> str:
        return f"{w.decided_by} {when(w.decided_at)}" if w.decided_by else ""

    return [
        Column("#", lambda w: w.seq, align_right=True),
        Column("Status", lambda w: words(w.status), foreground=status_colour,
               tooltip=lambda w: w.error or w.comment or ""),
        Column("Kind", lambda w: w.kind),
        Column("Target", lambda w: w.target, tooltip=lambda w: w.target),
        Column("Summary", lambda w: w.summary, tooltip=lambda w: w.summary),
        Column("Decided", decided, tooltip=lambda w: w.comment or ""),
        Column("Applied (UTC)", lambda w: when(w.applied_at)),
    ]  # fmt: skip


def timeline_columns() -> list[Column]:
    return [
        Column("At (UTC)", lambda e: when(e.at)),
        Column("Actor", lambda e: e.actor),
        Column("Action", lambda e: e.action),
        Column("Subject", lambda e: e.subject),
        Column(
            "Reason", lambda e: " ".join((e.reason or "").split()), tooltip=lambda e: e.reason or ""
        ),
    ]


def list_fetch(rows: Sequence[Any]) -> Fetch:
    """A fetch over rows already read (one run's writes or events: a few at most)."""
    frozen = tuple(rows)

    def fetch(offset: int, limit: int, _key: str | None, _descending: bool) -> Sequence[Any]:
        return frozen[offset : offset + limit]

    return fetch
