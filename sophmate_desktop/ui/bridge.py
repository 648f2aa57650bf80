"""Engine and console events delivered to widgets on the main thread.

`Listeners.publish` runs on whichever thread changed state (an engine worker, the
monitor, the UI thread). Emitting a Qt signal from there to receivers that live in
the main thread is queued by Qt, so slots always run on the main thread.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from sophmate_desktop.domain.events import Event, Listeners


class EventBridge(QObject):
    """One signal per event; `kind` is e.g. "write.approved", "run.failed"."""

    event_received = Signal(object)  # domain.events.Event

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe: list[Callable[[], None]] = []

    def attach(self, listeners: Listeners) -> None:
        self._unsubscribe.append(listeners.subscribe(self._forward))

    def detach_all(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()

    def _forward(self, event: Event) -> None:
        self.event_received.emit(event)
