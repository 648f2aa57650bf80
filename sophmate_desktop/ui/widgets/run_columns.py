"""Columns of the runs table, a run's writes and its audit timeline, and their colours.

Colour carries meaning only: red failed, amber waiting for a person, green done,
grey held or cancelled (as in the style sheet).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP
from PySide6.QtGui import QColor

from sophmate_desktop.domain.run_account import human_duration
from sophmate_desktop.ui.models.base import Column, Fetch
from sophmate_desktop.ui.translation import translate

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
# A run's or a write's status (and a run's mode) in words; marked for lupdate here,
# translated in words().
STATUS_WORDS = {
    "queued": QT_TRANSLATE_NOOP("sophmate", "queued"),
    "running": QT_TRANSLATE_NOOP("sophmate", "running"),
    "awaiting_approval": QT_TRANSLATE_NOOP("sophmate", "awaiting approval"),
    "applying": QT_TRANSLATE_NOOP("sophmate", "applying"),
    "succeeded": QT_TRANSLATE_NOOP("sophmate", "succeeded"),
    "failed": QT_TRANSLATE_NOOP("sophmate", "failed"),
    "rejected": QT_TRANSLATE_NOOP("sophmate", "rejected"),
    "cancelled": QT_TRANSLATE_NOOP("sophmate", "cancelled"),
    "held": QT_TRANSLATE_NOOP("sophmate", "held"),
    "planned": QT_TRANSLATE_NOOP("sophmate", "planned"),
    "pending": QT_TRANSLATE_NOOP("sophmate", "pending"),
    "approved": QT_TRANSLATE_NOOP("sophmate", "approved"),
    "applied": QT_TRANSLATE_NOOP("sophmate", "applied"),
    "expired": QT_TRANSLATE_NOOP("sophmate", "expired"),
    "interrupted": QT_TRANSLATE_NOOP("sophmate", "interrupted"),
    "stale": QT_TRANSLATE_NOOP("sophmate", "stale"),
    "dry_run": QT_TRANSLATE_NOOP("sophmate", "dry run"),
    "staging": QT_TRANSLATE_NOOP("sophmate", "staging"),
    "production": QT_TRANSLATE_NOOP("sophmate", "production"),
    "planning": QT_TRANSLATE_NOOP("sophmate", "planning"),
}


def words(value: str | None) -> str:
    if value is None:
        return ""
    known = STATUS_WORDS.get(value)
    return translate("sophmate", known) if known else value.replace("_", " ")


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
        Column(QT_TRANSLATE_NOOP("sophmate", "Run"), lambda r: r.id, "id", align_right=True),
        Column(QT_TRANSLATE_NOOP("sophmate", "Workflow"), lambda r: r.workflow, "workflow"),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Status"),
            lambda r: words(r.status),
            "status",
            foreground=status_colour,
            tooltip=lambda r: r.error or "",
        ),
        Column(QT_TRANSLATE_NOOP("sophmate", "Mode"), lambda r: words(r.mode), "mode"),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Duration"),
            lambda r: human_duration(r.duration_ms) or "",
            "duration",
            align_right=True,
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Writes"), lambda r: r.writes, "writes", align_right=True
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Records"),
            lambda r: r.affected_records,
            "records",
            align_right=True,
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Cost"),
            lambda r: cost_text(r.cost),
            "cost",
            align_right=True,
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Started (UTC)"),
            lambda r: when(r.started_at or r.queued_at),
            "started",
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Trigger"),
            lambda r: r.trigger_path or r.trigger_kind,
            None,
            tooltip=lambda r: f"{r.trigger_kind} {r.trigger_path or ''}".strip(),
        ),
    ]


def write_columns() -> list[Column]:
    def decided(w: Any) -> str:
        return f"{w.decided_by} {when(w.decided_at)}" if w.decided_by else ""

    return [
        Column(QT_TRANSLATE_NOOP("sophmate", "#"), lambda w: w.seq, align_right=True),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Status"),
            lambda w: words(w.status),
            foreground=status_colour,
            tooltip=lambda w: w.error or w.comment or "",
        ),
        Column(QT_TRANSLATE_NOOP("sophmate", "Kind"), lambda w: w.kind),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Target"), lambda w: w.target, tooltip=lambda w: w.target
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Summary"),
            lambda w: w.summary,
            tooltip=lambda w: w.summary,
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Decided"), decided, tooltip=lambda w: w.comment or ""
        ),
        Column(QT_TRANSLATE_NOOP("sophmate", "Applied (UTC)"), lambda w: when(w.applied_at)),
    ]


def timeline_columns() -> list[Column]:
    return [
        Column(QT_TRANSLATE_NOOP("sophmate", "At (UTC)"), lambda e: when(e.at)),
        Column(QT_TRANSLATE_NOOP("sophmate", "Actor"), lambda e: e.actor),
        Column(QT_TRANSLATE_NOOP("sophmate", "Action"), lambda e: e.action),
        Column(QT_TRANSLATE_NOOP("sophmate", "Subject"), lambda e: e.subject),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Reason"),
            lambda e: " ".join((e.reason or "").split()),
            tooltip=lambda e: e.reason or "",
        ),
    ]


def list_fetch(rows: Sequence[Any]) -> Fetch:
    """A fetch over rows already read (one run's writes or events: a few at most)."""
    frozen = tuple(rows)

    def fetch(offset: int, limit: int, _key: str | None, _descending: bool) -> Sequence[Any]:
        return frozen[offset : offset + limit]

    return fetch
