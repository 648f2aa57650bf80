"""Notices changes committed by other processes (the CLI, a headless engine, a
colleague on the team database) and tells the pages through the event bridge."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer

from sophmate_desktop.console import Console
from sophmate_desktop.domain.events import Event
from sophmate_desktop.domain.names import EventKind
from sophmate_desktop.ui.bridge import EventBridge

log = logging.getLogger(__name__)


class ChangeWatcher(QObject):
    def __init__(
        self, console: Console, bridge: EventBridge, interval_ms: int = 1000, parent=None
    ) -> None:
        super().__init__(parent)
        self._console = console
        self._bridge = bridge
        self._marker: tuple[int, int] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)

    def start(self) -> None:
        self._marker = self._read()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def check(self) -> bool:
        """True (and a `db.changed` event) when something changed since the last check."""
        marker = self._read()
        if marker is None or marker == self._marker:
            return False
        self._marker = marker
        self._bridge.event_received.emit(Event(EventKind.DB_CHANGED, {}))
        return True

    def _read(self) -> tuple[int, int] | None:
        try:
            return self._console.change_marker()
        except Exception as exc:  # a database hiccup must not kill the timer
            log.warning("could not read the change marker: %s", exc)
            return None
