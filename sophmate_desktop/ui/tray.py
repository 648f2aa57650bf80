"""The system tray icon, its menu and its messages.

The icon shows the worst state: failure (a failed run nobody acknowledged) > paused
(any kill switch or workflow) > pending (writes await approval) > ok. Messages are
shown for failed runs (the engine records the notice after the last retry, so
retries do not flood), automatic pauses and interrupted writes; new pending writes
are batched over ~2 s into one "12 writes await approval"; a failure that paused its
workflow is one message, not two. Clicking a message opens the run, the workflow or
the inbox.

The status and the notices are read in the background (ui/background_read.py).
Notices from before the tray started are history, not news: none of them is announced.

Where the desktop has no tray (offscreen tests, GNOME) `available` is False and no
icon is shown, but the state, the menu and `messages` are kept all the same, the
messages go to the freedesktop Notifications service when the session bus has one
(ui/desktop_notifier.py), and the notification centre lists every notice. A tray that
appears later (a shell extension enabled, the panel restarted) is picked up.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from sophmate_desktop.console import Console
from sophmate_desktop.console.notices import FAILURE_KINDS, NoticeRow, TrayStatus
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.events import Event
from sophmate_desktop.domain.names import EventKind
from sophmate_desktop.ui import navigator as nav
from sophmate_desktop.ui.background_read import BackgroundRead
from sophmate_desktop.ui.bridge import BatchedEvents
from sophmate_desktop.ui.debounce import Debouncer
from sophmate_desktop.ui.desktop_notifier import DesktopNotifier
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.notice_icons import STATE_WORDS, tray_icon

log = logging.getLogger(__name__)

Target = tuple[str, Any]  # ("run", 12) | ("workflow", "intake") | ("inbox", None) | ...
# Commit order across processes can differ from the order of `at`: look back this far.
LOOKBACK = dt.timedelta(seconds=30)
QUIET_KINDS = frozenset({"writes_pending"})
EVENT_PREFIXES = (
    "run.",
    "write.",
    "category.",
    "global.",
    "effect.",
    "workflow.",
    "held.",
    "notice",
)
EVENT_KINDS = frozenset(
    {
        EventKind.NOTIFICATION,
        EventKind.SWITCHES_CHANGED,
        EventKind.DB_CHANGED,
        EventKind.RUNS_CREATED,
    }
)
TrayRead = tuple[TrayStatus, list[NoticeRow]]


def read_tray(console: Console, since: dt.datetime) -> TrayRead:
    """On a task thread: the status and the notices created or bumped since `since`."""
    return console.tray_status(), console.notices_since(since - LOOKBACK)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


class TrayController(BatchedEvents, QObject):
    pending_batch_ms = 2000
    tray_check_ms = 5000  # how often to look for a tray that was not there

    def __init__(
        self,
        services: UiServices,
        *,
        open_window: QAction,
        pause_all: QAction,
        quit_app: QAction,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.available = QSystemTrayIcon.isSystemTrayAvailable()
        self.state = "ok"
        self.status: TrayStatus | None = None
        self.messages: list[tuple[str, str, Target]] = []
        self.last_target: Target | None = None
        self._open_window = open_window
        self._closed = False
        self._seen: dict[int, tuple[int, dt.datetime]] = {}
        self._started = utcnow()  # notices from before are history, not news
        self._since = self._started

        self.inbox_action = QAction(translate("sophmate", "&Inbox"), self)
        self.inbox_action.triggered.connect(lambda: self.open_target(("inbox", None)))
        self.menu = QMenu()
        self.menu.addAction(open_window)
        self.menu.addAction(self.inbox_action)
        self.menu.addAction(pause_all)
        self.menu.addSeparator()
        self.menu.addAction(quit_app)

        self.icon: QIcon = tray_icon(self.state)
        self.tooltip = "SophMate Desktop"
        self.tray: QSystemTrayIcon | None = None
        self.desktop = DesktopNotifier(services.tasks, self)
        self._said_keeps_running = False
        self._tray_watch = QTimer(self)
        self._tray_watch.timeout.connect(self.look_for_tray)
        if self.available:
            self._install_tray()
        else:
            self.desktop.check()
            self._tray_watch.start(self.tray_check_ms)

        self._refresh_later = Debouncer(self, self.refresh)
        self._pending_batch = QTimer(self)
        self._pending_batch.setSingleShot(True)
        self._pending_batch.timeout.connect(self._announce_pending)
        self._reader = BackgroundRead(self, services.tasks, lambda: None, self._read, self._failed)
        self._pending_reader = BackgroundRead(
            self,
            services.tasks,
            services.console.tray_status,
            self._pending_read,
            self._failed,
        )
        services.events.listen(self)
        self.refresh()

    def _install_tray(self) -> None:
        self.tray = QSystemTrayIcon(self.icon, self)
        self.tray.setContextMenu(self.menu)
        self.tray.setToolTip(self.tooltip)
        self.tray.activated.connect(self._activated)
        self.tray.messageClicked.connect(self.message_clicked)
        self.tray.show()

    def look_for_tray(self) -> bool:
        """Show the icon if a tray has appeared since; True when there is one now."""
        if self.tray is None and not self._closed and QSystemTrayIcon.isSystemTrayAvailable():
            self.available = True
            self._tray_watch.stop()
            self._install_tray()
        return self.tray is not None

    def say_keeps_running(self) -> None:
        """Once a session, on the first close to the tray: the engine keeps running."""
        if self._said_keeps_running:
            return
        self._said_keeps_running = True
        self.show_message(
            self.tr("SophMate Desktop keeps running"),
            self.tr(
                "The engine keeps watching and running workflows. Quit from this icon's "
                "menu to stop it."
            ),
            ("notifications", None),
        )

    # Reading -------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if self._closed:
            return
        if event.kind in EVENT_KINDS or event.kind.startswith(EVENT_PREFIXES):
            self._refresh_later.poke()

    def refresh(self) -> None:
        """Re-read the status (icon, menu, tooltip) in the background and announce what
        is new when it arrives (`reading` is False again)."""
        if self._closed:
            return
        console, since = self.services.console, self._since
        self._reader.request(lambda: read_tray(console, since))

    @property
    def reading(self) -> bool:
        return self._reader.loading or self._pending_reader.loading

    def _read(self, result: TrayRead) -> None:
        if self._closed:
            return
        status, rows = result
        self._show_status(status)
        self._announce(self._new_notices(rows))

    def _failed(self, error: BaseException) -> None:
        # Reported by the task runner; the tray keeps showing what it showed.
        log.warning("tray: could not read the status: %s", error)

    def _new_notices(self, rows: list[NoticeRow]) -> list[NoticeRow]:
        fresh = [
            r for r in rows if r.at >= self._started and self._seen.get(r.id) != (r.count, r.at)
        ]
        for row in rows:
            self._seen[row.id] = (row.count, row.at)
            self._since = max(self._since, row.at)
        horizon = self._since - LOOKBACK
        self._seen = {k: v for k, v in self._seen.items() if v[1] >= horizon}
        return fresh

    def _show_status(self, status: TrayStatus) -> None:
        self.status = status
        self.state = status.state
        self.icon = tray_icon(self.state)
        n = status.pending_writes
        self.inbox_action.setText(self.tr("&Inbox ({n})").format(n=n) if n else self.tr("&Inbox"))
        state = translate("sophmate", STATE_WORDS[self.state]).lower()
        lines = [self.tr("SophMate Desktop — {state}").format(state=state)]
        failures = status.unacknowledged_failures
        if failures:
            lines.append(
                self.tr("%n failed run to acknowledge", "", failures)
                if failures == 1
                else self.tr("%n failed runs to acknowledge", "", failures)
            )
        if status.paused:
            lines.append(self.tr("Paused: {names}").format(names=", ".join(status.paused)))
        if status.paused_workflows:
            names = ", ".join(status.paused_workflows)
            lines.append(self.tr("Workflows paused: {names}").format(names=names))
        if n:
            lines.append(self._writes_await(n))
        self.tooltip = "\n".join(lines)
        if self.tray is not None:
            self.tray.setIcon(self.icon)
            self.tray.setToolTip(self.tooltip)

    # Announcing ----------------------------------------------------------

    def _announce(self, fresh: list[NoticeRow]) -> None:
        failures = [r for r in fresh if r.kind in FAILURE_KINDS]
        pauses = [r for r in fresh if r.kind == "auto_paused"]
        others = [
            r
            for r in fresh
            if r not in failures
            and r not in pauses
            and r.kind not in QUIET_KINDS
            and r.level in ("error", "warning")
        ]
        # A failure that made its workflow pause itself is one event to a person: one
        # message that says both (the two notices are committed together).
        failed = {f.workflow for f in failures if f.workflow}
        folded = [p for p in pauses if p.workflow in failed]
        pauses = [p for p in pauses if p not in folded]
        if len(failures) == 1:
            [f] = failures
            target = ("run", f.run) if f.run is not None else ("notifications", None)
            title = (
                self.tr("{title}; it paused itself").format(title=f.title) if folded else f.title
            )
            body = "\n".join([_first_line(f.body), *(p.title for p in folded)]).strip()
            self.show_message(title, body, target, "failure")
        elif failures:
            names = ", ".join(sorted({f.workflow or "?" for f in failures}))
            if folded:
                paused = ", ".join(sorted(p.workflow for p in folded))
                names += self.tr("\nPaused themselves: {names}").format(names=paused)
            n = len(failures)
            self.show_message(
                self.tr("%n run failed", "", n) if n == 1 else self.tr("%n runs failed", "", n),
                names,
                ("notifications", None),
                "failure",
            )
        for p in pauses:
            target = ("workflow", p.workflow) if p.workflow else ("notifications", None)
            self.show_message(p.title, _first_line(p.body), target, "warning")
        for o in others:
            target = ("inbox", None) if o.kind == "write_interrupted" else ("notifications", None)
            self.show_message(o.title, _first_line(o.body), target, "warning")
        if any(r.kind == "writes_pending" for r in fresh) and not self._pending_batch.isActive():
            self._pending_batch.start(self.pending_batch_ms)

    def _announce_pending(self) -> None:
        if not self._closed:
            self._pending_reader.request()

    def _pending_read(self, status: TrayStatus) -> None:
        n = status.pending_writes
        if n and not self._closed:
            self.show_message(
                self._writes_await(n),
                self.tr("Open the inbox to review them."),
                ("inbox", None),
                "info",
            )

    def _writes_await(self, n: int) -> str:
        if n == 1:
            return self.tr("%n write awaits approval", "", n)
        return self.tr("%n writes await approval", "", n)

    def show_message(self, title: str, body: str, target: Target, level: str = "info") -> None:
        """Show (or, with no tray, only record) a message; a click opens `target`."""
        self.messages.append((title, body, target))
        del self.messages[:-200]
        self.last_target = target
        if self.tray is not None:
            icon = {
                "failure": QSystemTrayIcon.MessageIcon.Critical,
                "warning": QSystemTrayIcon.MessageIcon.Warning,
            }.get(level, QSystemTrayIcon.MessageIcon.Information)
            self.tray.showMessage(title, body, icon, 15_000 if level == "failure" else 8_000)
        elif self.desktop.available:
            self.desktop.show(title, body, level)

    # Clicking ------------------------------------------------------------

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self._open_window.trigger()

    def message_clicked(self) -> None:
        """The person clicked the last message: open what it was about."""
        if self.last_target is not None:
            self.open_target(self.last_target)

    def open_target(self, target: Target) -> None:
        self._open_window.trigger()
        navigator = self.services.navigator
        kind, value = target
        if kind == "run" and value is not None:
            navigator.show_run(int(value))
        elif kind == "workflow" and value:
            navigator.show_workflow(str(value))
        elif kind == "inbox":
            navigator.show_page(nav.INBOX)
        else:
            navigator.show_page(nav.NOTIFICATIONS)

    def close(self) -> None:
        """Stop the timers and remove the icon (the window calls this on shutdown)."""
        if self._closed:
            return
        self._closed = True
        self._tray_watch.stop()
        self._refresh_later.cancel()
        self._pending_batch.stop()
        try:
            self.services.events.events_received.disconnect(self._on_events)
        except (RuntimeError, TypeError):
            pass
        if self.tray is not None:
            self.tray.hide()
