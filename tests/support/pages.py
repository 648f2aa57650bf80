"""Driving single pages the way a person does: waiting for a page to show what it
re-read, the inbox's decisions and selections, the kill-switch dialogs."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QPoint, Qt
from PySide6.QtWidgets import QApplication, QWidget

from sophmate_desktop.ui.killswitch_panel import KillSwitchPanel
from sophmate_desktop.ui.pages.inbox import InboxPage
from sophmate_desktop.ui.widgets.switch_dialogs import SwitchDialog

# Dashboard and reviews ---------------------------------------------------------------


def loaded(qtbot, page) -> None:
    """Ask the page to re-read and wait until it shows the result."""
    with qtbot.waitSignal(page.refreshed, timeout=10_000):
        page.refresh()


# Inbox -------------------------------------------------------------------------------


def decide(qtbot, page: InboxPage, button, timeout: int = 10_000) -> None:
    """Click a decision button and wait until its outcome is shown."""
    with qtbot.waitSignal(page.decision_finished, timeout=timeout):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def select_ids(page: InboxPage, ids: list[int]) -> None:
    """Select these writes' rows through the view's selection model, as Ctrl+click does."""
    rows = [page.model.row_of(i) for i in ids]
    assert None not in rows, "not loaded"
    flags = QItemSelectionModel.SelectionFlag
    selection = page.table.selectionModel()
    selection.clearSelection()
    for row in rows:
        selection.setCurrentIndex(page.model.index(row, 0), flags.Select | flags.Rows)
    page.table.setFocus()


def click_row(qtbot, page: InboxPage, write_id: int) -> None:
    row = page.model.row_of(write_id)
    rect = page.table.visualRect(page.model.index(row, 1))
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def shown_ids(page: InboxPage) -> list[int]:
    page.model.fetch_all()
    return [row.id for row in page.model.loaded_rows()]


# Kill switches -----------------------------------------------------------------------


def open_dialog(qtbot, panel: KillSwitchPanel, scope: str, name: str) -> SwitchDialog:
    """Click a switch the way a person does and return the dialog it opens."""
    button = panel.switch_button(scope, name)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible())
    return panel.dialog


def submit(qtbot, dialog: SwitchDialog, reason: str, held: str | None = None) -> None:
    dialog.reason_edit.setFocus()
    qtbot.keyClicks(dialog.reason_edit, reason)
    if held is not None:
        choice = dialog.held_buttons[held]  # click its circle, as a person does
        qtbot.mouseClick(choice, Qt.MouseButton.LeftButton, pos=QPoint(8, choice.height() // 2))
    assert dialog.ok_button.isEnabled()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)


def active_dialog() -> QWidget | None:
    return QApplication.activeModalWidget()
