"""The Runs page: the run history (filtered, sorted and paged in SQL) and, one
Enter or double-click away, a run's own page with its plain-language account.

`show_run(id)` (the navigator's way in) opens a run's page directly; Esc or "Back"
returns to the history with that run selected.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.domain.events import Event
from sophmate_desktop.ui.models.base import ID_ROLE, LazyTableModel
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.widgets.run_columns import run_columns
from sophmate_desktop.ui.widgets.run_filters import RunFilterBar, RunFilters
from sophmate_desktop.ui.widgets.run_panel import RunPanel

PAGE_SIZE = 200
DEBOUNCE_MS = 150
REFRESH_PREFIXES = ("run.", "runs.", "write.", "writes.", "held.", "db.changed")


class RunsPage(QWidget):
    title = "Runs"

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.console = services.console
        self._filters = RunFilters()

        self.filter_bar = RunFilterBar()
        self.filter_bar.filters_changed.connect(self._filters_changed)
        self.model = LazyTableModel(run_columns(), self._fetch, page_size=PAGE_SIZE, parent=self)
        self.table = QTableView()
        self.table.setObjectName("runsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((60, 170, 130, 90, 80, 60, 70, 70, 150)):
            self.table.setColumnWidth(column, width)
        self.table.activated.connect(self._open_index)
        self.table.setToolTip("Enter or double-click opens the run's page")

        history = QWidget()
        column = QVBoxLayout(history)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.filter_bar)
        column.addWidget(self.table, 1)

        self.panel = RunPanel(services)
        self.panel.back_requested.connect(self.show_history)
        self.panel.retried.connect(lambda _id: self._timer.start())
        self.stack = QStackedWidget()
        self.stack.addWidget(history)
        self.stack.addWidget(self.panel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh)
        services.events.event_received.connect(self._on_event)

    # Reading ---------------------------------------------------------------

    def _fetch(self, offset: int, limit: int, sort_key: str | None, descending: bool):
        return self.console.runs_page(
            offset, limit, sort_key, descending, **self._filters.as_kwargs()
        )

    def refresh(self) -> None:
        """Re-read the history (keeping the selected run) and the open run's page."""
        self._timer.stop()
        self.filter_bar.set_choices(self.console.history_choices(audit=False))
        selected = self.selected_run_id()
        self.model.reload()
        if selected is not None:
            self.select_run(selected)
        if self.stack.currentWidget() is self.panel:
            self.panel.reload()

    def _filters_changed(self, filters: RunFilters) -> None:
        self._filters = filters
        self.model.set_fetch(self._fetch)

    def _on_event(self, event: Event) -> None:
        # A hidden page is re-read when it is shown (the main window calls refresh).
        if event.kind.startswith(REFRESH_PREFIXES) and self.isVisible():
            self._timer.start()

    # Selection and navigation ------------------------------------------------

    def selected_run_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(ID_ROLE) if rows else None

    def select_run(self, run_id: int) -> bool:
        row = self.model.row_of(run_id)
        if row is None:
            return False
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(index)
        return True

    def _open_index(self, index: QModelIndex) -> None:
        run_id = index.data(ID_ROLE)
        if run_id is not None:
            self.show_run(run_id)

    def show_run(self, run_id: int) -> None:
        """Open a run's page (called by the main window for navigator.show_run)."""
        self.panel.show_run(run_id)
        self.stack.setCurrentWidget(self.panel)
        self.panel.account_view.setFocus()

    def show_history(self) -> None:
        run_id = self.panel.run_id
        self.stack.setCurrentWidget(self.stack.widget(0))
        if run_id is not None:
            self.select_run(run_id)
        self.table.setFocus()
