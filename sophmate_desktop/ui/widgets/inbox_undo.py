"""The inbox's Undo button, shown in its applied view: plans the undo of the selected
applied file write (a new pending write, the reverse diff) or says why it cannot."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QPushButton

from sophmate_desktop.domain.errors import SophmateError
from sophmate_desktop.ui.translation import translate


def attach_inbox_undo(page: Any) -> QPushButton:
    """Add Undo to `page`'s decision bar; enabled for one selected applied write."""
    button = QPushButton(translate("sophmate", "Und&o"))
    button.setObjectName("inboxUndoButton")
    button.setToolTip(
        translate("sophmate", "Plan the undo of the selected applied write (it comes back here)")
    )
    page.decisions.layout().itemAt(1).layout().insertWidget(0, button)

    def selected() -> list[Any]:
        return [r for r in page.selected_rows() if r.status == "applied"]

    def update(*_args: Any) -> None:
        rows = selected()
        button.setVisible(page.filter_bar.applied.isChecked())
        button.setEnabled(len(rows) == 1 and not page.decisions.is_busy)

    def undo() -> None:
        rows = selected()
        if len(rows) != 1:
            return
        try:
            result = page.console.undo_write(rows[0].id)
        except SophmateError as exc:
            page.decisions.set_message(str(exc), "error")
            return
        page.decisions.set_message(result.describe(), "ok")

    button.clicked.connect(undo)
    page.table.selectionModel().selectionChanged.connect(update)
    page.filter_bar.filters_changed.connect(update)
    update()
    return button
