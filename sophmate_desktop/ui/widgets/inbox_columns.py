"""The inbox table's columns: what each shows and which SQL sort key it uses."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP
from PySide6.QtGui import QColor

from sophmate_desktop.console.inbox_pages import InboxRow
from sophmate_desktop.domain.clock import age_text
from sophmate_desktop.ui.models.base import Column
from sophmate_desktop.ui.translation import translate

# Cell texts, marked for lupdate here and translated where shown (_tr).
CUSTOMER_BADGE = QT_TRANSLATE_NOOP("sophmate", "customer")
AI_BADGE = QT_TRANSLATE_NOOP("sophmate", "AI-drafted")
AI_COLOUR = QColor("#00695c")
CUSTOMER_COLOUR = QColor("#b35900")
INTERRUPTED_COLOUR = QColor("#c62828")
APPLYING_COLOUR = QColor("#1565c0")
MUTED_COLOUR = QColor("#8a8a8a")  # a write this person may not approve
NOT_YOURS = QT_TRANSLATE_NOOP("sophmate", "not yours")


def _tr(text: str) -> str:
    return translate("sophmate", text)


def _badge(row: InboxRow) -> str:
    return _tr(CUSTOMER_BADGE) if row.customer_facing else ""


def _ai_tip(row: InboxRow) -> str:
    if not row.ai_drafted:
        return ""
    if row.customer_facing:
        return translate(
            "sophmate",
            "Drafted by an AI prompt step and customer-facing: it always needs a "
            "person's approval. Read it before it reaches anyone.",
        )
    return translate(
        "sophmate", "Drafted by an AI prompt step: its content came from a model's answer"
    )


def _status_colour(row: InboxRow) -> QColor | None:
    if row.status == "applying":
        return APPLYING_COLOUR
    return INTERRUPTED_COLOUR if row.status == "interrupted" else None


def _status_tip(row: InboxRow) -> str:
    if row.recording:
        return translate(
            "sophmate",
            "The engine {engine} knows how it ended ({outcome}) "
            "and keeps trying to record it: the database does not take it now.",
        ).format(engine=row.claimed_by, outcome=row.recording.split(",")[0])
    if row.status == "applying":
        since = row.applying_since or row.created_at
        down = translate(
            "sophmate", " It has stopped answering: another engine of its pool takes it over."
        )
        return translate("sophmate", "Being applied by the engine {engine} for {age}.").format(
            engine=row.claimed_by, age=age_text(since)
        ) + (down if row.engine_down else "")
    if row.status == "interrupted":
        return translate(
            "sophmate",
            "Interrupted while applying: the app cannot tell whether it took effect. "
            "Check, then mark it applied or retry it.",
        )
    return translate("sophmate", "Waiting for approval")


def _muted(row: InboxRow) -> QColor | None:
    return MUTED_COLOUR if row.refusal else None


def _refusal_tip(row: InboxRow) -> str:
    if not row.refusal:
        return ""
    return translate("sophmate", "You may not approve this write: {why}").format(why=row.refusal)


def _full_text(text: str, row: InboxRow) -> str:
    """The whole text a cell may shorten, and why this person may not approve it."""
    refusal = _refusal_tip(row)
    return f"{text}\n\n{refusal}" if refusal else text


STAGES = {
    "dry_run": QT_TRANSLATE_NOOP("sophmate", "dry run"),
    "staging": QT_TRANSLATE_NOOP("sophmate", "staging"),
    "production": QT_TRANSLATE_NOOP("sophmate", "production"),
}


def _stage_tip(row: InboxRow) -> str:
    if row.mode == "staging":
        return translate(
            "sophmate", "A staging run: its writes go to the staging paths and staging servers"
        )
    if row.mode == "production":
        return translate("sophmate", "A production run: its writes reach the real outputs")
    return ""


def _approvals_tip(row: InboxRow) -> str:
    if row.approvals_needed < 2:
        return ""
    return translate("sophmate", "Needs {needed} different people; {given} approved so far").format(
        needed=row.approvals_needed, given=row.approvals_given
    )


def inbox_columns() -> list[Column]:
    return [
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Workflow"),
            lambda r: r.workflow,
            "workflow",
            _refusal_tip,
            _muted,
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Category"),
            lambda r: r.category,
            "category",
            _refusal_tip,
            _muted,
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Kind"), lambda r: r.kind, "kind", _refusal_tip, _muted
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Target"),
            lambda r: r.target,
            "target",
            lambda r: _full_text(r.target, r),
            _muted,
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Summary"),
            lambda r: r.summary,
            "summary",
            lambda r: _full_text(r.summary, r),
            _muted,
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Age"),
            lambda r: age_text(r.created_at),
            "age",
            tooltip=lambda r: translate("sophmate", "planned {when} UTC").format(
                when=f"{r.created_at:%Y-%m-%d %H:%M}"
            ),
            align_right=True,
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Customer"),
            _badge,
            "customer_facing",
            tooltip=lambda r: (
                translate("sophmate", "Customer-facing: always needs a person's approval")
                if r.customer_facing
                else ""
            ),
            foreground=lambda r: CUSTOMER_COLOUR if r.customer_facing else None,
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "AI"),
            lambda r: _tr(AI_BADGE) if r.ai_drafted else "",
            "ai_drafted",
            tooltip=_ai_tip,
            foreground=lambda r: AI_COLOUR if r.ai_drafted else None,
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Status"),
            lambda r: r.status_text,
            "status",
            _status_tip,
            _status_colour,
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Approvals"), lambda r: r.approvals, None, _approvals_tip
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Run"),
            lambda r: r.run_id,
            None,
            lambda r: translate("sophmate", "Run {run}: Enter opens it").format(run=r.run_id),
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Stage"),
            lambda r: _tr(STAGES[r.mode]) if r.mode in STAGES else (r.mode or ""),
            None,
            _stage_tip,
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "You"),
            lambda r: _tr(NOT_YOURS) if r.refusal else "",
            None,
            _refusal_tip,
            lambda r: INTERRUPTED_COLOUR if r.refusal else None,
        ),
    ]


AGE_COLUMN = 5
TARGET_COLUMN, SUMMARY_COLUMN = 3, 4
