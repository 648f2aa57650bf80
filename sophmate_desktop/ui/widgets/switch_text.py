"""Words and looks shared by the kill-switch panel, the paused banner and the tray."""

from __future__ import annotations

import datetime as dt

from PySide6.QtWidgets import QWidget

from sophmate_desktop.console.notices import switch_label
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import SwitchScope
from sophmate_desktop.domain.names import EventKind
from sophmate_desktop.store.rows import SwitchRow
from sophmate_desktop.ui.translation import Plural, translate

PAUSED_RED = "#c62828"
PAUSED_BORDER = "#8e0000"
# Used only as an inline fallback so a paused switch is red with no style sheet
# loaded; the shipped style sheet says the same through [paused="true"].
PAUSED_BUTTON_STYLE = (
    f"background-color: {PAUSED_RED}; color: #ffffff; border: 1px solid {PAUSED_BORDER};"
    " border-radius: 3px; font-weight: bold; padding: 3px 10px;"
)
BANNER_STYLE = (
    f"background-color: {PAUSED_RED}; color: #ffffff; padding: 6px 10px; font-weight: bold;"
)

# Event kinds after which what a switch shows may have changed.
SWITCH_EVENT_PREFIXES = ("category.", "global.", "effect.", "held.", "workflow.")
SWITCH_EVENT_KINDS = frozenset(
    {EventKind.SWITCHES_CHANGED, EventKind.DB_CHANGED, EventKind.RUNS_CREATED}
)


def concerns_switches(kind: str) -> bool:
    return kind in SWITCH_EVENT_KINDS or kind.startswith(SWITCH_EVENT_PREFIXES)


def local_time(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """A stored naive-UTC time as the person's local clock: "12:03" today, else
    "3 Mar 12:03" (with the year when it is not this year)."""
    if value is None:
        return ""
    local = value.replace(tzinfo=dt.UTC).astimezone()
    today = (now or utcnow()).replace(tzinfo=dt.UTC).astimezone().date()
    if local.date() == today:
        return local.strftime("%H:%M")
    if local.year == today.year:
        return f"{local.day} {local:%b %H:%M}"
    return f"{local.day} {local:%b %Y %H:%M}"


def label_of(row: SwitchRow) -> str:
    return switch_label(row.scope, row.name)


def who_when_why(row: SwitchRow) -> str:
    """ "by ana 12:03: audit in progress"."""
    parts = []
    if row.paused_by:
        parts.append(translate("sophmate", "by {actor}").format(actor=row.paused_by))
    if row.paused_at:
        parts.append(local_time(row.paused_at))
    text = " ".join(parts)
    if row.paused_reason:
        text = f"{text}: {row.paused_reason}" if text else row.paused_reason
    return text


def paused_summary(row: SwitchRow) -> str:
    """ "finance (by ana 12:03: audit in progress)"."""
    detail = who_when_why(row)
    return f"{label_of(row)} ({detail})" if detail else label_of(row)


def held_text(count: int) -> str:
    return (
        Plural.tr("%n held run", "", count) if count == 1 else Plural.tr("%n held runs", "", count)
    )


def switch_tooltip(row: SwitchRow) -> str:
    """What a switch button says on hover: its state, and what a click does."""
    what = label_of(row)
    if row.paused:
        lines = [
            translate("sophmate", "{what} is paused {who}.").format(
                what=what, who=who_when_why(row)
            )
        ]
        if row.paused_at:
            lines.append(
                translate("sophmate", "Since {when} UTC.").format(
                    when=f"{row.paused_at:%Y-%m-%d %H:%M}"
                )
            )
        if row.held_runs:
            held = held_text(row.held_runs).capitalize()
            lines.append(translate("sophmate", "{held} waiting.").format(held=held))
        lines.append(translate("sophmate", "Click to resume."))
        return "\n".join(lines)
    if row.scope == SwitchScope.GLOBAL.value:
        return translate("sophmate", "Pause every workflow now (Ctrl+Shift+P). Asks for a reason.")
    if row.scope == SwitchScope.EFFECT.value:
        return translate(
            "sophmate", "All {what} is allowed. Click to pause every {what} effect."
        ).format(what=what)
    n = row.workflows
    workflows = Plural.tr("%n workflow", "", n) if n == 1 else Plural.tr("%n workflows", "", n)
    count = f" ({workflows})" if n else ""
    desc = f"\n{row.description}" if row.description else ""
    return (
        translate("sophmate", "Category {what}{count} is running. Click to pause it.").format(
            what=what, count=count
        )
        + desc
        + _budget_text(row)
    )


def _budget_text(row: SwitchRow) -> str:
    per = {
        "day": translate("sophmate", "{amount} per day"),
        "month": translate("sophmate", "{amount} per month"),
    }
    budgets = [
        per[period].format(amount=f"{amount:.2f}")
        for amount, period in ((row.budget_per_day, "day"), (row.budget_per_month, "month"))
        if amount is not None
    ]
    if not budgets:
        return ""
    return translate("sophmate", "\nCost budget: {budgets}; it pauses itself when spent.").format(
        budgets=", ".join(budgets)
    )


def set_paused_look(widget: QWidget, paused: bool, inline_style: str = PAUSED_BUTTON_STYLE) -> None:
    """The dynamic property the style sheet matches, plus the inline red fallback."""
    widget.setProperty("paused", paused)
    widget.setStyleSheet(inline_style if paused else "")
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()
