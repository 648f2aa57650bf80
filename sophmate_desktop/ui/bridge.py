"""Engine and console events delivered to widgets on the main thread, in batches.

`Listeners.publish` runs on whichever thread changed state (an engine worker, the
monitor, the UI thread). An event published on the main thread is delivered at once;
one from another thread waits in a queue that the main thread drains in one go.

Why batches: every call from Qt into Python takes the GIL, and while the engine's
threads apply writes each take waits its turn. One signal per event and receiver was
~12 calls per event (1,000 applies: ~36,000), and the window stalled for 200 ms at a
time although its own work in that time was ~20 ms of CPU (bench.window). Now a
drain is one call, whatever the number of events and receivers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import SIGNAL, QObject, Qt, QThread, Signal

from sophmate_desktop.domain.events import Event, Listeners


class BatchedEvents:
    """For a receiver of `events_received` that handles one event at a time."""

    _on_event: Callable[[Event], None]

    def _on_events(self, events: list[Event]) -> None:
        for event in events:
            self._on_event(event)


class EventBridge(QObject):
    """`events_received(list)`: the events since the last delivery, oldest first
    (`kind` is e.g. "write.approved", "run.failed"). `event_received(object)`: each of
    them, for a receiver that wants them one by one (tests); it costs a call each."""

    events_received = Signal(list)
    event_received = Signal(object)
    _woken = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._queued: list[Event] = []
        self._woken.connect(self._drain, Qt.ConnectionType.QueuedConnection)

    def attach(self, listeners: Listeners) -> None:
        self._unsubscribe.append(listeners.subscribe(self.publish))

    def detach_all(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()

    def listen(self, receiver: BatchedEvents) -> None:
        """Deliver the events to `receiver._on_event`, one by one, in batches (the
        connection ends with the receiver)."""
        self.events_received.connect(receiver._on_events)

    def publish(self, event: Event) -> None:
        """From any thread; on the main thread delivered before this returns."""
        if QThread.currentThread() is self.thread():
            self._deliver([event])
            return
        with self._lock:
            self._queued.append(event)
            first = len(self._queued) == 1
        if first:
            self._woken.emit()

    def _drain(self) -> None:
        with self._lock:
            events, self._queued = self._queued, []
        if events:
            self._deliver(events)

    def _deliver(self, events: list[Event]) -> None:
        self.events_received.emit(events)
        if self.receivers(SIGNAL("event_received(PyObject)")):
            for event in events:
                self.event_received.emit(event)
