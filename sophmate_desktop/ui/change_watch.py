"""Notices changes committed by other processes (the CLI, a headless engine, a
colleague on the team database) and tells the pages through the event bridge.

Every tick reads `console.change_marker()` in the background (ui/background_read.py);
a tick that comes while the previous read still runs is skipped, so a slow database
never piles reads up. On PostgreSQL the database's own notifications (LISTEN, see
store/change_listener.py) ask for a read at once, and the tick is only the fallback
(every LISTENING_TICK_MS); a notification during a read asks for one more after it.
The first failure of a streak is reported (logged and shown),
the repeats only logged quietly until the marker can be read again.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from sophmate_desktop.domain.events import Event
from sophmate_desktop.domain.names import EventKind
from sophmate_desktop.ui.background_read import BackgroundRead
from sophmate_desktop.ui.bridge import EventBridge
from sophmate_desktop.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

Marker = tuple[int, int]


LISTENING_TICK_MS = 10_000  # the fallback tick while notifications arrive


class ChangeWatcher(QObject):
    checked = Signal(bool)  # a read ended: True when it found a change
    _notified = Signal()  # from the listening thread

    def __init__(
        self,
        tasks: TaskRunner,
        bridge: EventBridge,
        interval_ms: int = 1000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._bridge = bridge
        self._marker: Marker | None = None
        self._failing = False
        self._active = False
        self.skipped_ticks = 0
        self._reader = BackgroundRead(
            self, tasks, tasks.console.change_marker, self._read, self._failed, report=False
        )
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._again = False  # a notification came while a read ran
        self._notified.connect(self._wake)
        self._listener = None

    def start(self) -> None:
        self._active = True
        self._marker = None
        self._listener = self._tasks.console.change_listener(lambda _table: self._notified.emit())
        if self._listener is not None:
            self._timer.setInterval(max(self._timer.interval(), LISTENING_TICK_MS))
            self._listener.start()
        self.check()
        self._timer.start()

    def stop(self) -> None:
        self._active = False
        self._timer.stop()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    @property
    def listening(self) -> bool:
        return self._listener is not None and self._listener.connected.is_set()

    def _wake(self) -> None:
        if not self._active:
            return
        if self._reader.loading:
            self._again = True
            return
        self.check()

    def _read_again(self) -> None:
        if self._again and self._active:
            self._again = False
            self.check()

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    @property
    def reading(self) -> bool:
        return self._reader.loading

    def check(self) -> None:
        """Read the marker in the background, unless the last read is still running."""
        if self._reader.loading:
            self.skipped_ticks += 1
            return
        self._reader.request()

    def _read(self, marker: Marker) -> None:
        if not self._active:
            return  # stopped while the read ran
        if self._failing:
            self._failing = False
            log.info("the change marker can be read again")
        # The first read cannot tell what was committed between the pages' own first
        # reads and it, so it counts as a change: the pages catch up once.
        changed = marker != self._marker
        self._marker = marker
        if changed:
            self._bridge.publish(Event(EventKind.DB_CHANGED, {}))
        self.checked.emit(changed)
        self._read_again()

    def _failed(self, error: BaseException) -> None:
        if not self._active:
            return
        if self._failing:
            log.debug("still cannot read the change marker: %s", error)
        else:
            self._failing = True  # a database hiccup must not stop the watch, nor flood
            self._tasks.report(self.tr("could not read the change marker"), error)
        self.checked.emit(False)
        self._read_again()
