"""Columns of the workflows table (rows are console WorkflowOverview records)."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP
from PySide6.QtGui import QColor

from sophmate_desktop.console.workflow_pages import WorkflowOverview
from sophmate_desktop.ui.models.base import Column
from sophmate_desktop.ui.translation import translate

RED = QColor("#c62828")
AMBER = QColor("#b26a00")
GREEN = QColor("#2e7d32")
GREY = QColor("#78909c")
# Marked for lupdate here, translated where shown.
BADGES = {
    "production_writes": QT_TRANSLATE_NOOP("sophmate", "production data"),
    "repeated_failures": QT_TRANSLATE_NOOP("sophmate", "repeated failures"),
    "customer_facing": QT_TRANSLATE_NOOP("sophmate", "customer-facing"),
    "no_owner": QT_TRANSLATE_NOOP("sophmate", "no owner"),
}
STAGE_WORDS = {
    "dry_run": QT_TRANSLATE_NOOP("sophmate", "dry run"),
    "staging": QT_TRANSLATE_NOOP("sophmate", "staging"),
    "production": QT_TRANSLATE_NOOP("sophmate", "production"),
}


def stage_text(stage: str) -> str:
    words = STAGE_WORDS.get(stage)
    return translate("sophmate", words) if words else stage.replace("_", " ")


def health_text(row: WorkflowOverview) -> str:
    parts = []
    if row.recent_succeeded:
        parts.append(translate("sophmate", "{n} ok").format(n=row.recent_succeeded))
    if row.recent_failed:
        parts.append(translate("sophmate", "{n} failed").format(n=row.recent_failed))
    if row.recent_other:
        parts.append(translate("sophmate", "{n} stopped").format(n=row.recent_other))
    text = " · ".join(parts) if parts else translate("sophmate", "no runs yet")
    if row.consecutive_failures > 1:
        text += " · " + _in_a_row(row.consecutive_failures)
    return text


def _in_a_row(n: int) -> str:
    return translate("sophmate", "{n} failed in a row").format(n=n)


def _health_colour(row: WorkflowOverview) -> QColor | None:
    if row.consecutive_failures or row.last_status == "failed":
        return RED
    if row.recent_failed:
        return AMBER
    if row.recent_succeeded:
        return GREEN
    return GREY


def _health_tip(row: WorkflowOverview) -> str:
    total = row.recent_succeeded + row.recent_failed + row.recent_other
    tip = (
        translate("sophmate", "The last {n} finished runs").format(n=total)
        if total
        else translate("sophmate", "No finished runs yet")
    )
    if row.last_status:
        tip += translate("sophmate", "; the latest {status}").format(status=row.last_status)
    if row.consecutive_failures:
        tip += "; " + _in_a_row(row.consecutive_failures)
    return tip


def badges_text(row: WorkflowOverview) -> str:
    return ", ".join(
        translate("sophmate", BADGES[code]) if code in BADGES else code
        for code, _reason in row.escalations
    )


def review_text(row: WorkflowOverview) -> str:
    if not row.review_due:
        return ""
    if row.review_overdue:
        return translate("sophmate", "overdue: {kind}").format(kind=row.review_due)
    return translate("sophmate", "due: {kind}").format(kind=row.review_due)


def paused_text(row: WorkflowOverview) -> str:
    if row.paused:
        return translate("sophmate", "paused")
    return translate("sophmate", "category paused") if row.category_paused else ""


def paused_tip(row: WorkflowOverview) -> str:
    if row.paused:
        reason = row.paused_reason or translate("sophmate", "no reason given")
        return translate("sophmate", "Paused: {reason}").format(reason=reason)
    if row.category_paused:
        return translate("sophmate", "Its category {category} is paused: no run starts").format(
            category=row.category
        )
    return ""


def enabled_tip(row: WorkflowOverview) -> str:
    if row.enabled:
        return translate("sophmate", "Enabled: its trigger starts runs")
    if row.missing_checklist:
        return translate("sophmate", "Cannot be enabled yet: missing {items}").format(
            items=", ".join(row.missing_checklist)
        )
    return translate("sophmate", "Disabled: only dry runs")


WORKFLOW_COLUMNS = (
    Column(
        QT_TRANSLATE_NOOP("sophmate", "Name"),
        lambda r: r.name,
        "name",
        tooltip=lambda r: r.description or r.name,
    ),
    Column(QT_TRANSLATE_NOOP("sophmate", "Category"), lambda r: r.category, "category"),
    Column(QT_TRANSLATE_NOOP("sophmate", "Stage"), lambda r: stage_text(r.stage), "stage"),
    Column(
        QT_TRANSLATE_NOOP("sophmate", "Enabled"),
        lambda r: translate("sophmate", "yes") if r.enabled else translate("sophmate", "no"),
        "enabled",
        tooltip=enabled_tip,
    ),
    Column(
        QT_TRANSLATE_NOOP("sophmate", "Paused"),
        paused_text,
        "paused",
        tooltip=paused_tip,
        foreground=lambda r: RED if r.paused or r.category_paused else None,
    ),
    Column(
        QT_TRANSLATE_NOOP("sophmate", "Owner"),
        lambda r: r.owner or translate("sophmate", "none"),
        "owner",
        foreground=lambda r: None if r.owner else RED,
    ),
    Column(
        QT_TRANSLATE_NOOP("sophmate", "Health"),
        health_text,
        "health",
        tooltip=_health_tip,
        foreground=_health_colour,
    ),
    Column(
        QT_TRANSLATE_NOOP("sophmate", "Escalations"),
        badges_text,
        None,
        tooltip=lambda r: "\n".join(reason for _code, reason in r.escalations),
        foreground=lambda r: AMBER if r.escalations else None,
    ),
    Column(
        QT_TRANSLATE_NOOP("sophmate", "Review"),
        review_text,
        "review",
        tooltip=lambda r: "\n".join(r.review_reasons),
        foreground=lambda r: RED if r.review_overdue else (AMBER if r.review_due else None),
    ),
)
