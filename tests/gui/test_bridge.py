"""The event bridge: events from other threads reach the window's receivers on the
main thread, many in one delivery; one published on the main thread at once."""

from __future__ import annotations

import threading

from PySide6.QtWidgets import QWidget

from sophmate_desktop.domain.events import Event, Listeners
from sophmate_desktop.ui.bridge import BatchedEvents, EventBridge


class Receiver(BatchedEvents, QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.kinds: list[str] = []
        self.threads: set[str] = set()
        self.deliveries = 0

    def _on_events(self, events: list[Event]) -> None:
        self.deliveries += 1
        super()._on_events(events)

    def _on_event(self, event: Event) -> None:
        self.kinds.append(event.kind)
        self.threads.add(threading.current_thread().name)


def test_events_from_an_engine_thread_arrive_in_order_in_one_delivery(qtbot):
    bridge, engine = EventBridge(), Listeners()
    bridge.attach(engine)
    receivers = [Receiver() for _ in range(3)]
    for r in receivers:
        bridge.listen(r)
    kinds = [f"write.finished.{i}" for i in range(500)]

    def publish_all() -> None:
        for kind in kinds:
            engine.publish(Event(kind, {}))

    worker = threading.Thread(target=publish_all, name="engine-applier")
    worker.start()
    worker.join()
    assert all(r.kinds == [] for r in receivers)  # queued for the main thread
    qtbot.waitUntil(lambda: all(len(r.kinds) == len(kinds) for r in receivers))
    for r in receivers:
        assert r.kinds == kinds
        assert r.threads == {threading.main_thread().name}
        assert r.deliveries == 1  # 500 events, one call into each receiver
    bridge.detach_all()


def test_an_event_on_the_main_thread_is_delivered_before_publish_returns(qtbot):
    bridge = EventBridge()
    r = Receiver()
    bridge.listen(r)
    seen: list[str] = []
    bridge.event_received.connect(lambda e: seen.append(e.kind))
    bridge.publish(Event("db.changed", {}))
    assert r.kinds == ["db.changed"] and seen == ["db.changed"]


def test_a_closed_receiver_gets_nothing_more(qtbot):
    bridge, engine = EventBridge(), Listeners()
    bridge.attach(engine)
    gone, stays = Receiver(), Receiver()
    bridge.listen(gone)
    bridge.listen(stays)
    gone.deleteLater()
    qtbot.waitUntil(lambda: not _alive(gone))
    worker = threading.Thread(target=engine.publish, args=(Event("run.failed", {}),))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: stays.kinds == ["run.failed"])
    bridge.detach_all()


def _alive(widget: QWidget) -> bool:
    import shiboken6

    return shiboken6.isValid(widget)
