"""Settings → Cost budgets: set a category's budgets in a dialog; bad numbers are
refused at the field and nothing is stored."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import Run
from tests.support.factories import make_run, workflow_yaml


def _select(qtbot, section, name: str) -> None:
    names = [section.table.item(r, 0).text() for r in range(section.table.rowCount())]
    section.table.setFocus()
    section.table.selectRow(names.index(name))
    assert section.selected_row() is not None and section.selected_row().name == name


def _row_texts(section, name: str) -> list[str]:
    for r in range(section.table.rowCount()):
        if section.table.item(r, 0).text() == name:
            return [section.table.item(r, c).text() for c in range(section.table.columnCount())]
    raise AssertionError(f"no row {name}")


def _save(qtbot, dialog) -> None:
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)


def test_a_budget_typed_into_the_dialog_is_stored_audited_and_shown(qtbot, page, services):
    console = services.console
    console.import_workflow(workflow_yaml("wf-pay", "finance"))
    section = page.budgets
    section.refresh()
    assert _row_texts(section, "finance")[:3] == ["finance", "", ""]
    assert not section.set_button.isEnabled()  # nothing selected yet

    _select(qtbot, section, "finance")
    qtbot.mouseClick(section.set_button, Qt.MouseButton.LeftButton)
    dialog = section.dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.keyClicks(dialog.day_edit, "12.50")
    _save(qtbot, dialog)

    qtbot.waitUntil(lambda: section.message.level == "ok", timeout=5000)
    assert section.message.text() == "finance pauses itself after 12.50 a day."
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()
    stored = console.category_budget("finance")
    assert (stored.per_day, stored.per_month) == (12.5, None)
    audited = console.list_audit(action="category.budget_set")
    assert [(a.subject, a.actor, a.details["per_day"]) for a in audited] == [
        ("finance", "ana", 12.5)
    ]
    assert _row_texts(section, "finance")[:3] == ["finance", "12.50", ""]

    # Someone else sets the month's budget: the audited event refreshes the table.
    console.set_category_budget("finance", per_day=12.5, per_month=300)
    qtbot.waitUntil(lambda: _row_texts(section, "finance")[2] == "300.00", timeout=5000)


def test_a_negative_budget_is_refused_at_its_field_and_nothing_is_stored(qtbot, page, services):
    console = services.console
    console.import_workflow(workflow_yaml("wf-pay", "finance"))
    section = page.budgets
    section.refresh()

    # From the keyboard: Enter on the selected row opens the dialog.
    _select(qtbot, section, "finance")
    qtbot.keyClick(section.table, Qt.Key.Key_Return)
    dialog = section.dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.keyClicks(dialog.day_edit, "5")
    qtbot.keyClicks(dialog.month_edit, "-3")
    _save(qtbot, dialog)

    assert dialog.isVisible()
    assert dialog.month_error.level == "error" and dialog.month_error.isVisible()
    assert dialog.month_error.text().startswith("Per month:")
    assert not dialog.day_error.isVisible()
    stored = console.category_budget("finance")
    assert (stored.per_day, stored.per_month) == (None, None)
    assert console.list_audit(action="category.budget_set") == []

    # A word is refused too, naming its field; fixing both fields then saves.
    dialog.day_edit.clear()
    qtbot.keyClicks(dialog.day_edit, "lots")
    _save(qtbot, dialog)
    assert dialog.day_error.text().startswith("Per day:") and dialog.day_error.isVisible()
    dialog.day_edit.clear()
    dialog.month_edit.clear()
    qtbot.keyClicks(dialog.month_edit, "40")
    _save(qtbot, dialog)
    qtbot.waitUntil(lambda: section.message.level == "ok", timeout=5000)
    assert section.message.text() == "finance pauses itself after 40.00 a month."
    stored = console.category_budget("finance")
    assert (stored.per_day, stored.per_month) == (None, 40.0)


def test_a_budget_below_what_was_spent_says_the_category_is_paused_now(qtbot, page, services):
    console = services.console
    console.import_workflow(workflow_yaml("wf-one", "finance"))
    run = make_run(console.db, "wf-one")
    with write_transaction(console.db):
        Run.update(cost=7.0).where(Run.id == run.id).execute()
    section = page.budgets
    section.refresh()
    assert _row_texts(section, "finance")[3] == "running"

    _select(qtbot, section, "finance")
    qtbot.mouseClick(section.set_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(section.dialog.day_edit, "5")
    _save(qtbot, section.dialog)

    qtbot.waitUntil(lambda: section.message.level == "error", timeout=5000)
    reason = "cost budget spent: 7.00 of 5.00 today"
    assert section.message.text() == f"finance is paused now: {reason}"
    assert _row_texts(section, "finance")[1:4] == ["5.00", "", f"paused: {reason}"]
    assert console.category_budget("finance").per_day == 5.0
