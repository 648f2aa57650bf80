"""The Runs page: the run history (filtered, sorted and paged in SQL) and, one
Enter or double-click away, a run's own page with its plain-language account.

`show_run(id)` (the navigator's way in) opens a run's page directly; Esc or "Back"
returns to the history with that run selected.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QModelIndex
from PySide6.QtWidgets import (
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.domain.events import Event
from sophmate_desktop.domain.names import EventKind
from sophmate_desktop.ui.bridge import BatchedEvents
from sophmate_desktop.ui.debounce import Debouncer
from sophmate_desktop.ui.models.base import ID_ROLE, LazyTableModel
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.run_columns import run_columns
from sophmate_desktop.ui.widgets.run_filters import RunFilterBar, RunFilters
from sophmate_desktop.ui.widgets.run_grid import RunGrid
from sophmate_desktop.ui.widgets.run_panel import RunPanel
from sophmate_desktop.ui.widgets.tables import history_table, select_id, selected_data

PAGE_SIZE = 200
REFRESH_PREFIXES = ("run.", "runs.", "write.", "writes.", "held.", EventKind.DB_CHANGED)


class RunsPage(BatchedEvents, QWidget):
    title = QT_TRANSLATE_NOOP("sophmate", "Runs")

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.console = services.console
        self._filters = RunFilters()

        self.filter_bar = RunFilterBar()
        self.filter_bar.filters_changed.connect(self._filters_changed)
        self.model = LazyTableModel(run_columns(), self._fetch, page_size=PAGE_SIZE, parent=self)
        self.table = history_table("runsTable", self.model, (60, 170, 130, 90, 80, 60, 70, 70, 150))
        self.table.activated.connect(self._open_index)
        self.table.setToolTip(translate("sophmate", "Enter or double-click opens the run's page"))

        listing = QWidget()
        column = QVBoxLayout(listing)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.filter_bar)
        column.addWidget(self.table, 1)
        self.grid = RunGrid()
        self.grid.run_clicked.connect(self.show_run)
        history = self.views = QTabWidget()
        history.setObjectName("runViews")
        history.addTab(listing, translate("sophmate", "&History"))
        history.addTab(self.grid, translate("sophmate", "&Grid: runs over time"))
        history.currentChanged.connect(lambda _i: self._refresh_grid())

        self.panel = RunPanel(services)
        self.panel.back_requested.connect(self._back)
        self._return_to: str | None = None  # the page a run was opened from
        self.panel.retried.connect(lambda _id: self._refresh_later.poke())
        self.stack = QStackedWidget()
        self.stack.addWidget(history)
        self.stack.addWidget(self.panel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

        self._refresh_later = Debouncer(self, self.refresh)
        services.events.listen(self)

    # Reading ---------------------------------------------------------------

    def _fetch(self, offset: int, limit: int, sort_key: str | None, descending: bool):
        return self.console.runs_page(
            offset, limit, sort_key, descending, **self._filters.as_kwargs()
        )

    def refresh(self) -> None:
        """Re-read the history (keeping the selected run) and the open run's page."""
        self._refresh_later.cancel()
        self.filter_bar.set_choices(self.console.history_choices(audit=False))
        selected = self.selected_run_id()
        self.model.reload()
        if selected is not None:
            self.select_run(selected)
        self._refresh_grid()
        if self.stack.currentWidget() is self.panel:
            self.panel.reload()

    def _refresh_grid(self) -> None:
        if self.views.currentWidget() is self.grid:
            self.grid.show_rows(self.console.run_grid())

    def _filters_changed(self, filters: RunFilters) -> None:
        self._filters = filters
        self.model.set_fetch(self._fetch)

    def _on_event(self, event: Event) -> None:
        # A hidden page is re-read when it is shown (the main window calls refresh).
        if event.kind.startswith(REFRESH_PREFIXES) and self.isVisible():
            self._refresh_later.poke()

    # Selection and navigation ------------------------------------------------

    def selected_run_id(self) -> int | None:
        return selected_data(self.table, ID_ROLE)

    def select_run(self, run_id: int) -> bool:
        return select_id(self.table, run_id)

    def _open_index(self, index: QModelIndex) -> None:
        run_id = index.data(ID_ROLE)
        if run_id is not None:
            self.show_run(run_id)

    def show_run(
        self, run_id: int, came_from: tuple[str, str] | None = None, keep_back: bool = False
    ) -> None:
        """Open a run's page (called by the main window for navigator.show_run);
        `came_from` (page key, title): where Back returns, else the run history;
        `keep_back`: Back still returns where the previous run's page came from."""
        if not keep_back:
            self._return_to = came_from[0] if came_from else None
            self.panel.set_back_target(came_from[1] if came_from else None)
        self.panel.show_run(run_id)
        self.stack.setCurrentWidget(self.panel)
        self.panel.account_view.setFocus()

    def _back(self) -> None:
        target, self._return_to = self._return_to, None
        self.panel.set_back_target(None)
        self.show_history()
        if target is not None:
            self.services.navigator.show_page(target)

    def show_list(self) -> None:
        """The page's shortcut (Go menu): its list, even from a run's page."""
        self._return_to = None
        self.panel.set_back_target(None)
        if self.stack.currentWidget() is self.panel:
            self.show_history()

    def show_history(self) -> None:
        run_id = self.panel.run_id
        self.stack.setCurrentWidget(self.stack.widget(0))
        if run_id is not None:
            self.select_run(run_id)
        self.table.setFocus()
