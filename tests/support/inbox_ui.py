"""Driving the inbox page as a person does: decide with a click, select rows as
Ctrl+click does, click a row, and read which writes the table shows."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt

from sophmate_desktop.ui.pages.inbox import InboxPage


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
