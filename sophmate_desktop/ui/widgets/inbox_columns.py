"""The inbox table's columns: what each shows and which SQL sort key it uses."""

from __future__ import annotations

from PySide6.QtGui import QColor

from sophmate_desktop.console.inbox_pages import InboxRow
from sophmate_desktop.domain.clock import age_text
from sophmate_desktop.ui.models.base import Column

CUSTOMER_BADGE = "customer"
AI_BADGE = "AI-drafted"
AI_COLOUR = QColor("#00695c")
CUSTOMER_COLOUR = QColor("#b35900")
INTERRUPTED_COLOUR = QColor("#c62828")
APPLYING_COLOUR = QColor("#1565c0")
MUTED_COLOUR = QColor("#8a8a8a")  # a write this person may not approve
NOT_YOURS = "not yours"


def _badge(row: InboxRow) -> str:
    return CUSTOMER_BADGE if row.customer_facing else ""


def _ai_tip(row: InboxRow) -> str:
    if not row.ai_drafted:
        return ""
    if row.customer_facing:
        return (
            "Drafted by an AI prompt step and customer-facing: it always needs a "
            "person's approval. Read it before it reaches anyone."
        )
    return "Drafted by an AI prompt step: its content came from a model's answer"


def _status_colour(row: InboxRow) -> QColor | None:
    if row.status == "applying":
        return APPLYING_COLOUR
    return INTERRUPTED_COLOUR if row.status == "interrupted" else None


def _status_tip(row: InboxRow) -> str:
    if row.recording:
        return (
            f"The engine {row.claimed_by} knows how it ended ({row.recording.split(',')[0]}) "
            "and keeps trying to record it: the database does not take it now."
        )
    if row.status == "applying":
        since = row.applying_since or row.created_at
        down = " It has stopped answering: another engine of its pool takes it over."
        return (
            f"Being applied by the engine {row.claimed_by} for {age_text(since)}."
            + (down if row.engine_down else "")
        )
    if row.status == "interrupted":
        return (
            "Interrupted while applying: the app cannot tell whether it took effect. "
            "Check, then mark it applied or retry it."
        )
    return "Waiting for approval"


def _muted(row: InboxRow) -> QColor | None:
    return MUTED_COLOUR if row.refusal else None


def _refusal_tip(row: InboxRow) -> str:
    return f"You may not approve this write: {row.refusal}" if row.refusal else ""


def _full_text(text: str, row: InboxRow) -> str:
    """The whole text a cell may shorten, and why this person may not approve it."""
    refusal = _refusal_tip(row)
    return f"{text}\n\n{refusal}" if refusal else text


STAGES = {"dry_run": "dry run", "staging": "staging", "production": "production"}


def _stage_tip(row: InboxRow) -> str:
    if row.mode == "staging":
        return "A staging run: its writes go to the staging paths and staging servers"
    if row.mode == "production":
        return "A production run: its writes reach the real outputs"
    return ""


def _approvals_tip(row: InboxRow) -> str:
    if row.approvals_needed < 2:
        return ""
    return f"Needs {row.approvals_needed} different people; {row.approvals_given} approved so far"


def inbox_columns() -> list[Column]:
    return [
        Column("Workflow", lambda r: r.workflow, "workflow", _refusal_tip, _muted),
        Column("Category", lambda r: r.category, "category", _refusal_tip, _muted),
        Column("Kind", lambda r: r.kind, "kind", _refusal_tip, _muted),
        Column("Target", lambda r: r.target, "target", lambda r: _full_text(r.target, r), _muted),
        Column(
            "Summary", lambda r: r.summary, "summary", lambda r: _full_text(r.summary, r), _muted
        ),
        Column(
            "Age",
            lambda r: age_text(r.created_at),
            "age",
            tooltip=lambda r: f"planned {r.created_at:%Y-%m-%d %H:%M} UTC",
            align_right=True,
        ),
        Column(
            "Customer",
            _badge,
            "customer_facing",
            tooltip=lambda r: (
                "Customer-facing: always needs a person's approval" if r.customer_facing else ""
            ),
            foreground=lambda r: CUSTOMER_COLOUR if r.customer_facing else None,
        ),
        Column(
            "AI",
            lambda r: AI_BADGE if r.ai_drafted else "",
            "ai_drafted",
            tooltip=_ai_tip,
            foreground=lambda r: AI_COLOUR if r.ai_drafted else None,
        ),
        Column("Status", lambda r: r.status_text, "status", _status_tip, _status_colour),
        Column("Approvals", lambda r: r.approvals, None, _approvals_tip),
        Column("Run", lambda r: r.run_id, None, lambda r: f"Run {r.run_id}: Enter opens it"),
        Column("Stage", lambda r: STAGES.get(r.mode or "", r.mode or ""), None, _stage_tip),
        Column(
            "You",
            lambda r: NOT_YOURS if r.refusal else "",
            None,
            _refusal_tip,
            lambda r: INTERRUPTED_COLOUR if r.refusal else None,
        ),
    ]


AGE_COLUMN = 5
TARGET_COLUMN, SUMMARY_COLUMN = 3, 4
