"""Columns of the workflows table (rows are console WorkflowOverview records)."""

from __future__ import annotations

from PySide6.QtGui import QColor

from sophmate_desktop.console.workflow_pages import WorkflowOverview
from sophmate_desktop.ui.models.base import Column

RED = QColor("#c62828")
AMBER = QColor("#b26a00")
GREEN = QColor("#2e7d32")
GREY = QColor("#78909c")
BADGES = {
    "production_writes": "production data",
    "repeated_failures": "repeated failures",
    "customer_facing": "customer-facing",
    "no_owner": "no owner",
}


def stage_text(stage: str) -> str:
    return stage.replace("_", " ")


def health_text(row: WorkflowOverview) -> str:
    parts = []
    if row.recent_succeeded:
        parts.append(f"{row.recent_succeeded} ok")
    if row.recent_failed:
        parts.append(f"{row.recent_failed} failed")
    if row.recent_other:
        parts.append(f"{row.recent_other} stopped")
    text = " · ".join(parts) if parts else "no runs yet"
    if row.consecutive_failures > 1:
        text += f" · {row.consecutive_failures} failed in a row"
    return text


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
    tip = f"The last {total} finished runs" if total else "No finished runs yet"
    if row.last_status:
        tip += f"; the latest {row.last_status}"
    if row.consecutive_failures:
        tip += f"; {row.consecutive_failures} failed in a row"
    return tip


def badges_text(row: WorkflowOverview) -> str:
    return ", ".join(BADGES.get(code, code) for code, _reason in row.escalations)


def review_text(row: WorkflowOverview) -> str:
    if not row.review_due:
        return ""
    return f"{'overdue' if row.review_overdue else 'due'}: {row.review_due}"


def paused_text(row: WorkflowOverview) -> str:
    if row.paused:
        return "paused"
    return "category paused" if row.category_paused else ""


def paused_tip(row: WorkflowOverview) -> str:
    if row.paused:
        return f"Paused: {row.paused_reason or 'no reason given'}"
    if row.category_paused:
        return f"Its category {row.category} is paused: no run starts"
    return ""


def enabled_tip(row: WorkflowOverview) -> str:
    if row.enabled:
        return "Enabled: its trigger starts runs"
    if row.missing_checklist:
        return "Cannot be enabled yet: missing " + ", ".join(row.missing_checklist)
    return "Disabled: only dry runs"


WORKFLOW_COLUMNS = (
    Column("Name", lambda r: r.name, "name", tooltip=lambda r: r.description or r.name),
    Column("Category", lambda r: r.category, "category"),
    Column("Stage", lambda r: stage_text(r.stage), "stage"),
    Column("Enabled", lambda r: "yes" if r.enabled else "no", "enabled", tooltip=enabled_tip),
    Column(
        "Paused",
        paused_text,
        "paused",
        tooltip=paused_tip,
        foreground=lambda r: RED if r.paused or r.category_paused else None,
    ),
    Column(
        "Owner",
        lambda r: r.owner or "none",
        "owner",
        foreground=lambda r: None if r.owner else RED,
    ),
    Column("Health", health_text, "health", tooltip=_health_tip, foreground=_health_colour),
    Column(
        "Escalations",
        badges_text,
        None,
        tooltip=lambda r: "\n".join(reason for _code, reason in r.escalations),
        foreground=lambda r: AMBER if r.escalations else None,
    ),
    Column(
        "Review",
        review_text,
        "review",
        tooltip=lambda r: "\n".join(r.review_reasons),
        foreground=lambda r: RED if r.review_overdue else (AMBER if r.review_due else None),
    ),
)
