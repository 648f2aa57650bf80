"""The dashboard's small lists: escalations, reviews due, category health, failures.

They hold a bounded handful of rows (one per workflow or category, the 50 newest
failures), so a QTableWidget filled from frozen rows is enough here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

from sophmate_desktop.console.dashboard import CategoryHealth
from sophmate_desktop.console.workflow_rules import Escalation, ReviewDueRow
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.tables import setup_rows

ROW_ROLE = Qt.ItemDataRole.UserRole + 1
HEALTH_COLOURS = {"green": "#2e7d32", "amber": "#f29900", "red": "#c62828"}
OVERDUE_COLOUR = QColor("#c62828")
_dots: dict[str, QIcon] = {}


def health_dot(colour: str) -> QIcon:
    """A filled circle in the health colour (drawn, so it needs no icon file)."""
    if colour not in _dots:
        pixmap = QPixmap(14, 14)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(QColor(HEALTH_COLOURS.get(colour, "#607d8b")))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(1, 1, 12, 12)
        painter.end()
        _dots[colour] = QIcon(pixmap)
    return _dots[colour]


def minute(value) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


class DashTable(QTableWidget):
    """Whole-row selection, read-only, Enter or double-click activates the row."""

    activated_row = Signal(object)  # the frozen row

    def __init__(
        self, object_name: str, headers: Sequence[str], stretch: int | None = None, parent=None
    ) -> None:
        super().__init__(0, len(headers), parent)
        self.setHorizontalHeaderLabels(list(headers))
        setup_rows(self, object_name)
        rows = self.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        if stretch is None:
            header.setStretchLastSection(True)
        else:
            header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
        self.setWordWrap(False)
        self.cellDoubleClicked.connect(lambda row, _col: self._activate(row))

    def set_rows(
        self,
        rows: Sequence[Any],
        cells: Callable[[Any], Sequence[str]],
        style: Callable[[int, Any, QTableWidgetItem], None] | None = None,
    ) -> None:
        selected = self.selected_row()
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(cells(row)):
                item = QTableWidgetItem(text)
                item.setData(ROW_ROLE, row)
                if style is not None:
                    style(c, row, item)
                self.setItem(r, c, item)
        if selected is not None and selected in rows:
            self.selectRow(list(rows).index(selected))

    def row_at(self, r: int) -> Any:
        item = self.item(r, 0)
        return None if item is None else item.data(ROW_ROLE)

    def rows(self) -> list[Any]:
        return [self.row_at(r) for r in range(self.rowCount())]

    def selected_row(self) -> Any:
        picked = self.selectionModel().selectedRows() if self.selectionModel() else []
        return self.row_at(picked[0].row()) if picked else None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentRow() >= 0:
            self._activate(self.currentRow())
            return
        super().keyPressEvent(event)

    def _activate(self, r: int) -> None:
        row = self.row_at(r)
        if row is not None:
            self.activated_row.emit(row)


class EscalationTable(DashTable):
    def __init__(self, parent=None) -> None:
        super().__init__(
            "escalationTable",
            [
                translate("sophmate", "Workflow"),
                translate("sophmate", "Stage"),
                translate("sophmate", "Why"),
            ],
            parent=parent,
        )
        self.setToolTip(translate("sophmate", "Double-click or Enter opens the workflow"))

    def show_rows(self, rows: Sequence[Escalation]) -> None:
        def style(_c: int, row: Escalation, item: QTableWidgetItem) -> None:
            item.setToolTip("\n".join(row.reasons))

        self.set_rows(
            rows, lambda e: [e.workflow, e.stage.replace("_", " "), "; ".join(e.reasons)], style
        )


class ReviewsDueTable(DashTable):
    def __init__(self, parent=None) -> None:
        super().__init__(
            "dashReviewsTable",
            [
                translate("sophmate", "Workflow"),
                translate("sophmate", "Reason"),
                translate("sophmate", "Due since (UTC)"),
            ],
            stretch=1,
            parent=parent,
        )
        self.setToolTip(translate("sophmate", "Double-click or Enter opens the Reviews page"))

    def show_rows(self, rows: Sequence[ReviewDueRow]) -> None:
        def style(_c: int, row: ReviewDueRow, item: QTableWidgetItem) -> None:
            item.setToolTip(row.reason)
            if row.overdue:
                item.setForeground(QBrush(OVERDUE_COLOUR))

        self.set_rows(rows, lambda r: [r.workflow, r.reason, minute(r.due_since)], style)


class CategoryHealthTable(DashTable):
    def __init__(self, parent=None) -> None:
        super().__init__(
            "categoryHealthTable",
            [
                translate("sophmate", "Category"),
                translate("sophmate", "Runs 24 h"),
                translate("sophmate", "Failed 24 h"),
                translate("sophmate", "Pending"),
                translate("sophmate", "Held"),
                translate("sophmate", "State"),
            ],
            stretch=5,
            parent=parent,
        )
        self.horizontalHeaderItem(1).setToolTip(
            translate("sophmate", "Runs that finished in the last 24 hours")
        )
        self.horizontalHeaderItem(3).setToolTip(translate("sophmate", "Writes awaiting approval"))

    def show_rows(self, rows: Sequence[CategoryHealth]) -> None:
        def cells(h: CategoryHealth) -> list[str]:
            state = (
                self.tr("paused") if h.paused else h.note if h.health != "green" else self.tr("ok")
            )
            return [
                h.category,
                str(h.runs_24h),
                str(h.failed_24h),
                str(h.pending_writes),
                str(h.held_runs),
                state,
            ]

        def style(c: int, row: CategoryHealth, item: QTableWidgetItem) -> None:
            item.setToolTip(f"{row.category}: {row.health} — {row.note}")
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{row.health}: {row.note}")
            if c == 0:
                item.setIcon(health_dot(row.health))
            elif c < 5:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.set_rows(rows, cells, style)


class FailuresTable(DashTable):
    def __init__(self, parent=None) -> None:
        super().__init__(
            "failuresTable",
            [
                translate("sophmate", "When (UTC)"),
                translate("sophmate", "Workflow"),
                translate("sophmate", "What"),
            ],
            parent=parent,
        )
        self.setToolTip(translate("sophmate", "Enter or double-click opens the run"))

    def show_rows(self, rows: Sequence[Any]) -> None:
        def cells(n: Any) -> list[str]:
            times = f" (×{n.count})" if n.count > 1 else ""
            return [minute(n.at), n.workflow or "", f"{n.title}{times}"]

        def style(_c: int, row: Any, item: QTableWidgetItem) -> None:
            item.setToolTip(f"{row.title}\n{row.body}".strip())

        self.set_rows(rows, cells, style)
