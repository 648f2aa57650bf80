"""Undo buttons for applied file writes: the whole run (every undoable write, newest
first) or the one selected. An undo is planned as a new run whose writes wait in the
inbox, previewed as the reverse diff; a refusal (the file changed, an e-mail cannot
be undone) is said in place with the workflow's rollback text."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from sophmate_desktop.domain.errors import SophmateError
from sophmate_desktop.ui.translation import translate


class UndoControl(QWidget):
    said = Signal(str, bool)  # rich text, is an error
    planned = Signal(int)  # the undo run's id

    def __init__(self, console: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.console = console
        self._run_id: int | None = None
        self._write: Any = None
        self.run_button = QPushButton(translate("sophmate", "Und&o run"))
        self.run_button.setObjectName("undoRunButton")
        self.run_button.setToolTip(
            self.tr("Plan the undo of this run's applied file writes (they go to the inbox)")
        )
        self.run_button.clicked.connect(self.undo_run)
        self.write_button = QPushButton(translate("sophmate", "Undo &write"))
        self.write_button.setObjectName("undoWriteButton")
        self.write_button.setToolTip(
            translate("sophmate", "Plan the undo of the selected applied write")
        )
        self.write_button.clicked.connect(self.undo_write)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.run_button)
        row.addWidget(self.write_button)
        self.set_run(None, 0)

    def set_run(self, run_id: int | None, applied: int) -> None:
        """The run shown and how many of its writes were applied."""
        self._run_id = run_id
        self.run_button.setEnabled(run_id is not None and applied > 0)
        self.set_write(None)

    def set_write(self, write: Any) -> None:
        """The selected write (a row with id, status, kind), or None."""
        self._write = write
        self.write_button.setEnabled(write is not None and write.status == "applied")

    def undo_run(self) -> None:
        if self._run_id is not None and self.run_button.isEnabled():
            self._plan(lambda: self.console.undo_run(self._run_id))

    def undo_write(self) -> None:
        if self._write is not None and self.write_button.isEnabled():
            self._plan(lambda: self.console.undo_write(self._write.id))

    def _plan(self, call: Any) -> None:
        try:
            result = call()
        except SophmateError as exc:
            self.said.emit(html.escape(str(exc)), True)
            return
        lines = [html.escape(line.strip()) for line in result.describe().splitlines()]
        link = self.tr('<a href="run:{id}">Open run {id}</a>').format(id=result.run.id)
        self.said.emit("<br>".join([*lines, link]), False)
        self.planned.emit(result.run.id)
