"""The main window: kill-switch panel on top, a side bar of pages, the pages."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.ui import navigator as nav
from sophmate_desktop.ui.change_watch import ChangeWatcher
from sophmate_desktop.ui.error_report import ErrorReporter, log_destination
from sophmate_desktop.ui.killswitch_panel import KillSwitchPanel, PausedBanner
from sophmate_desktop.ui.pages.audit import AuditPage
from sophmate_desktop.ui.pages.dashboard import DashboardPage
from sophmate_desktop.ui.pages.inbox import InboxPage
from sophmate_desktop.ui.pages.notifications import NotificationsPage
from sophmate_desktop.ui.pages.reviews import ReviewsPage
from sophmate_desktop.ui.pages.runs import RunsPage
from sophmate_desktop.ui.pages.settings import SettingsPage
from sophmate_desktop.ui.pages.welcome import WelcomePage
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.tray import TrayController
from sophmate_desktop.ui.widgets.wf_dialogs import ConfirmDialog

log = logging.getLogger(__name__)

PAGES = (
    (nav.DASHBOARD, DashboardPage),
    (nav.INBOX, InboxPage),
    (nav.WORKFLOWS, None),  # imported lazily below: the editor pulls in more modules
    (nav.RUNS, RunsPage),
    (nav.AUDIT, AuditPage),
    (nav.REVIEWS, ReviewsPage),
    (nav.NOTIFICATIONS, NotificationsPage),
    (nav.SETTINGS, SettingsPage),
)


class MainWindow(QMainWindow):
    quit_requested = Signal()
    shut_down = Signal()  # shutdown() has stopped everything (the database may be let go)

    def __init__(
        self, services: UiServices, *, first_run: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        from sophmate_desktop.ui.pages.workflows import WorkflowsPage

        self.services = services
        self._quitting = False
        self.quit_dialog: ConfirmDialog | None = None
        self._quit_requested = False
        self._shut_down = False
        self.database_check = None  # the background quick check, when one runs (gui_app)
        self.setWindowTitle(
            self.tr("SophMate Desktop — {actor}").format(actor=services.console.actor)
        )
        self.resize(1280, 820)
        # For the window's lifetime only: shutdown() puts the previous hooks back.
        self.error_reporter = ErrorReporter(self)
        services.tasks.task_failed.connect(self.error_reporter.task_failed)
        self.error_reporter.install()

        self.kill_switch_panel = KillSwitchPanel(services, self)
        self.kill_switch_panel.setAccessibleName(self.tr("Kill switches"))
        self.paused_banner = PausedBanner(services, self)
        self.page_list = QListWidget()
        self.page_list.setObjectName("pageList")
        self.page_list.setAccessibleName(self.tr("Pages"))
        self.page_list.setFixedWidth(180)
        self.stack = QStackedWidget()
        self.pages: dict[str, QWidget] = {}
        for key, cls in PAGES:
            page = (cls or WorkflowsPage)(services, self)
            self._add_page(key, page)
        self.welcome_page = WelcomePage(services, self)
        self._add_page(nav.WELCOME, self.welcome_page, listed=first_run)

        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.page_list)
        body.addWidget(self.stack, 1)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(6, 6, 6, 6)
        column.addWidget(self.kill_switch_panel)
        column.addWidget(self.paused_banner)
        column.addLayout(body, 1)
        self.setCentralWidget(central)

        self._build_actions()
        self.tray = TrayController(
            services,
            open_window=self.open_action,
            pause_all=self.kill_switch_panel.pause_all_action,
            quit_app=self.quit_action,
            parent=self,
        )
        self.page_list.currentRowChanged.connect(self._page_row_changed)
        services.navigator.page_requested.connect(self.show_page)
        services.navigator.run_requested.connect(self._show_run)
        services.navigator.workflow_requested.connect(self._show_workflow)
        services.navigator.write_requested.connect(self._show_write)
        self.change_watcher = ChangeWatcher(services.tasks, services.events, parent=self)
        self.change_watcher.start()
        self.show_page(nav.WELCOME if first_run else nav.DASHBOARD)

    # Pages ---------------------------------------------------------------

    def _add_page(self, key: str, page: QWidget, listed: bool = True) -> None:
        self.pages[key] = page
        self.stack.addWidget(page)
        item = QListWidgetItem(translate("sophmate", page.title))
        item.setData(Qt.ItemDataRole.UserRole, key)
        self.page_list.addItem(item)
        item.setHidden(not listed)
        title_changed = getattr(page, "title_changed", None)
        if title_changed is not None:
            title_changed.connect(item.setText)

    def page(self, key: str) -> QWidget:
        return self.pages[key]

    def current_page_key(self) -> str:
        item = self.page_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else nav.DASHBOARD

    def show_page(self, key: str) -> None:
        for row in range(self.page_list.count()):
            item = self.page_list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == key:
                item.setHidden(False)
                self.page_list.setCurrentRow(row)
                self._page_row_changed(row)
                return
        log.warning("no page %r", key)

    def _page_row_changed(self, row: int) -> None:
        if row < 0:
            return
        key = self.page_list.item(row).data(Qt.ItemDataRole.UserRole)
        page = self.pages[key]
        self.stack.setCurrentWidget(page)
        refresh = getattr(page, "refresh", None)
        if refresh is not None:
            refresh()

    def _show_run(self, run_id: int) -> None:
        came_from = self.current_page_key()
        self.show_page(nav.RUNS)
        if came_from == nav.RUNS:  # from the history, or one run's page to another's
            self.pages[nav.RUNS].show_run(run_id, keep_back=True)
        else:
            back = (came_from, translate("sophmate", self.pages[came_from].title))
            self.pages[nav.RUNS].show_run(run_id, came_from=back)

    def go_to(self, key: str) -> None:
        """A page's shortcut: the page, on its list (from a detail view too)."""
        self.show_page(key)
        show_list = getattr(self.pages[key], "show_list", None)
        if show_list is not None:
            show_list()

    def _show_workflow(self, name: str) -> None:
        self.show_page(nav.WORKFLOWS)
        self.pages[nav.WORKFLOWS].show_workflow(name)

    def _show_write(self, write_id: int) -> None:
        self.show_page(nav.INBOX)
        self.pages[nav.INBOX].show_write(write_id)

    # Actions -------------------------------------------------------------

    def _build_actions(self) -> None:
        self.open_action = QAction(translate("sophmate", "&Open SophMate Desktop"), self)
        self.open_action.triggered.connect(self.bring_to_front)
        self.quit_action = QAction(translate("sophmate", "&Quit"), self)
        # Not StandardKey.Quit: Windows and theme-less platforms bind nothing to it,
        # and the app tells people "Quit (Ctrl+Q)" (Cmd+Q on macOS).
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.triggered.connect(self.quit)
        file_menu = self.menuBar().addMenu(translate("sophmate", "&File"))
        file_menu.addAction(self.quit_action)
        go_menu = self.menuBar().addMenu(translate("sophmate", "&Go"))
        for number, (key, _cls) in enumerate(PAGES, start=1):
            action = QAction(translate("sophmate", self.pages[key].title), self)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(lambda _=False, k=key: self.go_to(k))
            go_menu.addAction(action)
            self.addAction(action)  # shortcuts work even with the menu bar hidden
        automation = self.menuBar().addMenu(self.tr("&Automation"))
        automation.addAction(self.kill_switch_panel.pause_all_action)
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        self.open_log_action = help_menu.addAction(self.tr("Open &log"))
        self.open_log_action.setObjectName("openLogAction")
        self.open_log_action.triggered.connect(self.open_log)
        self.open_log_folder_action = help_menu.addAction(self.tr("Open log &folder"))
        self.open_log_folder_action.triggered.connect(lambda: self.open_log(folder=True))
        self.addAction(self.kill_switch_panel.pause_all_action)
        self.addAction(self.quit_action)

    def open_log(self, folder: bool = False) -> bool:
        """Help > Open log: the log file (or its folder) in the desktop's viewer."""
        from sophmate_desktop.logs import log_folder

        path = log_destination()
        target = Path(path).parent if path and folder else Path(path) if path else log_folder()
        opened = QDesktopServices.openUrl(QUrl.fromLocalFile(str(target)))
        if not opened:
            log.warning("could not open %s", target)
        return opened

    def bring_to_front(self) -> None:
        self.show()
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.raise_()
        self.activateWindow()

    # Closing -------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._quitting and self.tray.available:
            # Closing to the tray keeps the engine watching; Quit stops it.
            self.hide()
            event.ignore()
            self.tray.say_keeps_running()
            return
        event.accept()
        # Without a tray, closing the window is quitting: nothing would be left to
        # reopen it, and the application must not linger without engine or window.
        self._end()

    def quit(self) -> None:
        """File > Quit, Ctrl+Q and the tray's Quit: stop the engine and leave; with
        runs running or writes applying, ask first and say what is in flight."""
        text = self._in_flight_text()
        if text:
            self._ask_quit(text)
            return
        self._quit_now()

    def _in_flight_text(self) -> str:
        engine = self.services.engine
        counts = engine.in_flight() if engine is not None and engine.started else {}
        parts = [
            f"{n} {noun if n == 1 else noun + 's'} {verb}"
            for n, noun, verb in (
                (counts.get("run", 0), "run", "running"),
                (counts.get("write", 0), "write", "applying"),
            )
            if n
        ]
        return " and ".join(parts)

    def _ask_quit(self, in_flight: str) -> None:
        if self.quit_dialog is not None:
            self.quit_dialog.raise_()
            return
        self.bring_to_front()
        dialog = self.quit_dialog = ConfirmDialog(
            self.tr("Quit with work in flight"),
            self.tr(
                "Quit now? {in_flight}. Quitting stops the engine: what is in flight is "
                "stopped, and a running command is killed: its write waits in the Inbox "
                "as interrupted, for you to mark it applied or retry it."
            ).format(in_flight=in_flight),
            self.tr("Quit anyway"),
            self,
        )
        dialog.setObjectName("quitDialog")
        dialog.accepted.connect(self._quit_now)
        dialog.finished.connect(lambda _r: setattr(self, "quit_dialog", None))
        dialog.open()

    def _quit_now(self) -> None:
        self._quitting = True
        self.close()
        self._end()  # a window hidden to the tray may get no close event

    def _end(self) -> None:
        self.shutdown()
        if not self._quit_requested:
            self._quit_requested = True
            self.quit_requested.emit()

    @property
    def is_shut_down(self) -> bool:
        return self._shut_down

    def shutdown(self) -> None:
        """Stop the engine, wait for background tasks, detach from events. Idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        if self.database_check is not None:
            self.database_check.stop()
        self.change_watcher.stop()
        self.tray.close()
        engine = self.services.engine
        if engine is not None:
            engine.stop()
        if not self.services.tasks.wait_done(30_000):
            log.error("background tasks still running at shutdown")
        self.services.events.detach_all()
        self.error_reporter.uninstall()
        self.error_reporter.close()
        self.services.tasks.task_failed.disconnect(self.error_reporter.task_failed)
        self.shut_down.emit()
