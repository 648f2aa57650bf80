"""The Dashboard: what needs a person now, and how the last two weeks went.

Four count tiles, escalations with their reasons, reviews due, per-category health,
runs per day, and the failures nobody has acknowledged yet (a failure stays here
until someone does, so none is silently forgotten).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.console.dashboard import DashboardData
from sophmate_desktop.domain.errors import SophmateError
from sophmate_desktop.domain.events import Event
from sophmate_desktop.domain.names import EventKind
from sophmate_desktop.ui import navigator as nav
from sophmate_desktop.ui.background_read import BackgroundRead
from sophmate_desktop.ui.bridge import BatchedEvents
from sophmate_desktop.ui.debounce import Debouncer
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.dash_chart import RunsPerDayChart
from sophmate_desktop.ui.widgets.dash_schedules import UpcomingSchedules
from sophmate_desktop.ui.widgets.dash_tables import (
    CategoryHealthTable,
    EscalationTable,
    FailuresTable,
    ReviewsDueTable,
)
from sophmate_desktop.ui.widgets.dash_tiles import CountTile
from sophmate_desktop.ui.widgets.page_layout import scroll_page

_EXACT = {
    EventKind.NOTIFICATION,
    EventKind.SWITCHES_CHANGED,
    EventKind.DB_CHANGED,
    EventKind.RUNS_CREATED,
}
_PREFIXES = ("run.", "write.", "held.", "workflow.", "review.", "notice", "connection.")
_SUFFIXES = (".paused", ".resumed")


def concerns_dashboard(kind: str) -> bool:
    return kind in _EXACT or kind.startswith(_PREFIXES) or kind.endswith(_SUFFIXES)


def _section(title: str, *widgets: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(8, 6, 8, 8)
    for widget in widgets:
        layout.addWidget(widget)
    return box


class DashboardPage(BatchedEvents, QWidget):
    title = QT_TRANSLATE_NOOP("sophmate", "Dashboard")
    refreshed = Signal()  # the page shows fresh figures (tests wait on it)

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboardPage")
        self.services = services
        self.data: DashboardData | None = None
        self._stale = True
        self._reader = BackgroundRead(
            self, services.tasks, self._read, self._loaded, self._load_failed
        )
        self._debounce = Debouncer(self, self.refresh)
        self._build()
        services.events.listen(self)

    # Layout -----------------------------------------------------------------

    def _build(self) -> None:
        tiles = self._build_tiles()

        self.escalations = EscalationTable()
        self.escalations.activated_row.connect(
            lambda e: self.services.navigator.show_workflow(e.workflow)
        )
        self.reviews = ReviewsDueTable()
        self.reviews.activated_row.connect(
            lambda _r: self.services.navigator.show_page(nav.REVIEWS)
        )
        self.health = CategoryHealthTable()
        self.chart = RunsPerDayChart()

        failures_box = self._build_failures_box()
        self.schedules = UpcomingSchedules()
        self.schedules.activated_workflow.connect(self.services.navigator.show_workflow)

        self.escalations_box = _section(self.tr("Escalations"), self.escalations)
        self.reviews_box = _section(self.tr("Reviews due"), self.reviews)
        grid = QGridLayout()
        grid.addWidget(self.escalations_box, 0, 0)
        grid.addWidget(_section(self.tr("Runs per day"), self.chart), 0, 1)
        grid.addWidget(self.reviews_box, 1, 0)
        grid.addWidget(_section(self.tr("Categories"), self.health), 1, 1)
        grid.addWidget(failures_box, 2, 0, 1, 2)
        grid.addWidget(_section(self.tr("Next scheduled runs"), self.schedules), 3, 0, 1, 2)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        for row, stretch in enumerate((3, 2, 2)):
            grid.setRowStretch(row, stretch)

        self.status = QLabel("")
        self.status.setObjectName("dashboardStatus")
        self.status.setWordWrap(True)
        body = QWidget()
        column = QVBoxLayout(body)
        column.addLayout(tiles)
        column.addWidget(self.status)
        column.addLayout(grid, 1)
        scroll_page(self, body)
        self._update_buttons()

    def _build_tiles(self) -> QHBoxLayout:
        tr = self.tr
        self.pending_tile = CountTile(
            "pendingWrites", tr("writes await approval"), tr("write awaits approval")
        )
        self.failed_tile = CountTile(
            "failedRuns", tr("failed runs in 24 h"), tr("failed run in 24 h")
        )
        self.held_tile = CountTile("heldRuns", tr("held runs"), tr("held run"))
        self.paused_tile = CountTile("pausedSwitches", tr("switches paused"), tr("switch paused"))
        self.pending_tile.clicked.connect(lambda: self.services.navigator.show_page(nav.INBOX))
        self.failed_tile.clicked.connect(lambda: self.services.navigator.show_page(nav.RUNS))
        self.held_tile.clicked.connect(self._show_held)
        self.paused_tile.clicked.connect(self._focus_kill_switches)
        tiles = QHBoxLayout()
        for tile in (self.pending_tile, self.failed_tile, self.held_tile, self.paused_tile):
            tiles.addWidget(tile)
        return tiles

    def _build_failures_box(self) -> QGroupBox:
        self.failures = FailuresTable()
        self.failures.activated_row.connect(self._open_run_of)
        self.failures.itemSelectionChanged.connect(self._update_buttons)
        self.acknowledge_button = QPushButton(translate("sophmate", "&Acknowledge"))
        self.acknowledge_button.setObjectName("acknowledgeButton")
        self.acknowledge_button.setToolTip(
            translate("sophmate", "I have seen this failure and take it from here")
        )
        self.acknowledge_button.clicked.connect(self.acknowledge_selected)
        self.open_run_button = QPushButton(translate("sophmate", "Open &run"))
        self.open_run_button.setObjectName("openRunButton")
        self.open_run_button.clicked.connect(
            lambda: self._open_run_of(self.failures.selected_row())
        )
        buttons = QHBoxLayout()
        buttons.addWidget(self.acknowledge_button)
        buttons.addWidget(self.open_run_button)
        buttons.addStretch(1)
        self.failure_message = QLabel("")
        self.failure_message.setObjectName("failureMessage")
        self.failure_message.setWordWrap(True)
        failures_box = _section(self.tr("Failures not yet acknowledged"), self.failures)
        failures_box.layout().addLayout(buttons)
        failures_box.layout().addWidget(self.failure_message)
        self.failures_box = failures_box
        return failures_box

    # Loading ------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read everything in the background; a request during a load runs once after."""
        self._stale = False
        self._reader.request()

    def _read(self) -> tuple[DashboardData, list[Any] | None, list[Any]]:
        console = self.services.console
        failures = None
        if hasattr(console, "unacknowledged_failures"):
            failures = console.unacknowledged_failures()
        return console.dashboard(), failures, console.upcoming_schedules(5)

    def _loaded(self, result: tuple[DashboardData, list[Any] | None, list[Any]]) -> None:
        data, failures, schedules = result
        self.data = data
        self.status.setText("")
        self._show(data, failures)
        self.schedules.show_rows(schedules)
        self.refreshed.emit()

    def _load_failed(self, error: BaseException) -> None:
        self.status.setText(self.tr("Could not read the dashboard: {error}").format(error=error))

    def _on_event(self, event: Event) -> None:
        if not concerns_dashboard(event.kind):
            return
        if self.isVisible():
            self._debounce.poke()
        else:
            self._stale = True  # read again when shown

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._debounce.poke()

    # Showing --------------------------------------------------------------------

    def _show(self, data: DashboardData, failures: list[Any] | None) -> None:
        n = data.interrupted_writes
        interrupted = (
            self.tr("+ %n interrupted write to check", "", n)
            if n == 1
            else self.tr("+ %n interrupted writes to check", "", n)
            if n
            else ""
        )
        self.pending_tile.set_count(data.pending_writes, interrupted, alert=False)
        self.failed_tile.set_count(data.failed_runs_24h, alert=data.failed_runs_24h > 0)
        self.held_tile.set_count(
            data.held_runs,
            self.tr("replay or discard them when resuming") if data.held_runs else "",
            alert=data.held_runs > 0,
        )
        self.paused_tile.set_count(
            data.paused_switches,
            ", ".join(self.tr("everything") if n == "all" else n for n in data.paused_names),
            alert=data.paused_switches > 0,
        )
        self.escalations.show_rows(data.escalations)
        self.escalations_box.setTitle(self.tr("Escalations ({n})").format(n=len(data.escalations)))
        self.reviews.show_rows(data.reviews)
        overdue = sum(r.overdue for r in data.reviews)
        due = len(data.reviews)
        self.reviews_box.setTitle(
            self.tr("Reviews due ({n}, {overdue} overdue)").format(n=due, overdue=overdue)
            if overdue
            else self.tr("Reviews due ({n})").format(n=due)
        )
        self.health.show_rows(data.categories)
        self.chart.set_days(data.runs_per_day)
        self.failures_box.setVisible(failures is not None)
        if failures is not None:
            self.failures.show_rows(failures)
            self.failures_box.setTitle(
                self.tr("Failures not yet acknowledged ({n})").format(n=len(failures))
            )
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.failures.selected_row()
        self.acknowledge_button.setEnabled(row is not None)
        self.open_run_button.setEnabled(row is not None and row.run is not None)

    # Actions ----------------------------------------------------------------------

    def acknowledge_selected(self) -> None:
        row = self.failures.selected_row()
        if row is None:
            return
        try:
            self.services.console.acknowledge_notice(row.id)
        except SophmateError as exc:  # e.g. someone else acknowledged it first
            self.failure_message.setText(str(exc))
        else:
            self.failure_message.setText(self.tr("Acknowledged: {title}").format(title=row.title))
        self.refresh()

    def _open_run_of(self, row: Any) -> None:
        if row is not None and row.run is not None:
            self.services.navigator.show_run(row.run)

    def _show_held(self) -> None:
        # Held runs are replayed or discarded where their switch is resumed.
        if not self._focus_kill_switches():
            self.services.navigator.show_page(nav.RUNS)

    def _focus_kill_switches(self) -> bool:
        """Put the focus on the first paused switch of the window's kill-switch panel."""
        panel = self.window().findChild(QWidget, "killSwitchPanel")
        if panel is None:
            return False
        # The panel's own map of its current buttons, when it has one: after a rebuild
        # the replaced buttons stay children until their deferred deletion, and the new
        # ones become visible an event later.
        current = getattr(panel, "buttons", None)
        if isinstance(current, dict) and current:
            buttons = list(current.values())
        else:
            buttons = [b for b in panel.findChildren(QPushButton) if b.isVisibleTo(panel)]
        paused = [b for b in buttons if b.property("paused") or b.isChecked()]
        target = (paused or buttons or [panel])[0]
        target.setFocus(Qt.FocusReason.OtherFocusReason)
        return True
