"""The Runs page's grid: a row per workflow, a square per recent run coloured by its
status (newest right), the last failure's error in words beside it; a click on a
square opens that run's page."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from sophmate_desktop.console.run_grid import GRID_RUNS, GridCell, GridRow
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.path_elide import PathElideDelegate
from sophmate_desktop.ui.widgets.run_columns import GREY, STATUS_COLOURS, when, words
from sophmate_desktop.ui.widgets.tables import name_for_access

CELL = 16  # px: a square per run (30 of them and the error fit a 1024 px window)
RUN_ROLE = Qt.ItemDataRole.UserRole + 1
RUNNING = QColor("#1565c0")


def cell_colour(status: str) -> QColor:
    if status in ("running", "queued", "planning", "applying"):
        return RUNNING
    return STATUS_COLOURS.get(status, GREY)


def cell_tip(cell: GridCell) -> str:
    lines = [
        translate("sophmate", "Run {id} · {status} · {mode} · {when} UTC").format(
            id=cell.run_id, status=words(cell.status), mode=words(cell.mode), when=when(cell.at)
        )
    ]
    if cell.error:
        lines.append(cell.error)
    lines.append(translate("sophmate", "Click to open the run"))
    return "\n".join(lines)


class RunGrid(QTableWidget):
    run_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, GRID_RUNS + 2, parent)
        self.setObjectName("runGrid")
        name_for_access(self, "runGrid")
        self.setAccessibleName(translate("sophmate", "Recent runs per workflow"))
        self.setAccessibleDescription(
            translate("sophmate", "A square per run, newest right; Enter opens the run")
        )
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setMinimumSectionSize(CELL)
        self.setHorizontalHeaderLabels(
            [translate("sophmate", "Workflow"), *([""] * GRID_RUNS),
             translate("sophmate", "Last failure")]
        )  # fmt: skip
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.setColumnWidth(0, 130)
        self.verticalHeader().setDefaultSectionSize(CELL + 6)
        for column in range(1, GRID_RUNS + 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            self.setColumnWidth(column, CELL)
        header.setStretchLastSection(True)
        self._elide = PathElideDelegate(self)  # the error's words stay, its paths shrink
        self.setItemDelegateForColumn(GRID_RUNS + 1, self._elide)
        self.cellClicked.connect(self._clicked)
        self.cellActivated.connect(self._clicked)
        self.rows: list[GridRow] = []

    def show_rows(self, rows: Sequence[GridRow]) -> None:
        self.rows = list(rows)
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            name = QTableWidgetItem(row.workflow)
            name.setToolTip(f"{row.workflow} ({row.category})")
            self.setItem(r, 0, name)
            offset = GRID_RUNS - len(row.cells)  # newest at the right edge
            for c in range(GRID_RUNS):
                self.setItem(r, c + 1, self._square(row.cells[c - offset] if c >= offset else None))
            failure = row.last_failure
            text = f"run {failure.run_id}: {failure.error or 'failed'}" if failure else ""
            last = QTableWidgetItem(text.splitlines()[0] if text else "")
            last.setToolTip(text)
            last.setForeground(QBrush(STATUS_COLOURS["failed"]))
            if failure:
                last.setData(RUN_ROLE, failure.run_id)
            self.setItem(r, GRID_RUNS + 1, last)

    def _square(self, cell: GridCell | None) -> QTableWidgetItem:
        item = QTableWidgetItem("")
        if cell is None:
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            return item
        item.setBackground(QBrush(cell_colour(cell.status)))
        item.setToolTip(cell_tip(cell))
        item.setData(RUN_ROLE, cell.run_id)
        item.setData(Qt.ItemDataRole.AccessibleTextRole, f"run {cell.run_id} {words(cell.status)}")
        return item

    def run_at(self, row: int, column: int) -> int | None:
        item = self.item(row, column)
        return item.data(RUN_ROLE) if item is not None else None

    def _clicked(self, row: int, column: int) -> None:
        run_id = self.run_at(row, column)
        if run_id is not None:
            self.run_clicked.emit(run_id)
