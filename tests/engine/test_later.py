"""The delayed-call scheduler: order, one thread, nothing runs after stop."""

from __future__ import annotations

import threading
import time

from sophmate_desktop.engine.later import Later


def test_calls_run_in_due_order_on_one_thread() -> None:
    later = Later("test-later")
    later.start()
    done = threading.Event()
    seen: list[tuple[str, str]] = []

    def record(tag: str) -> None:
        seen.append((tag, threading.current_thread().name))
        if len(seen) == 3:
            done.set()

    try:
        later.call_later(0.15, record, "c")
        later.call_later(0.05, record, "a")
        later.call_later(0.10, record, "b")
        assert later.pending() == 3
        assert done.wait(5)
        assert seen == [("a", "test-later"), ("b", "test-later"), ("c", "test-later")]
        deadline = time.monotonic() + 5
        while later.pending() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert later.pending() == 0
    finally:
        later.stop()


def test_stop_drops_waiting_calls_and_joins() -> None:
    later = Later("test-later-stop")
    later.start()
    ran = threading.Event()
    later.call_later(60, ran.set)
    later.stop(timeout=5)
    assert not ran.is_set()
    assert not any(t.name == "test-later-stop" for t in threading.enumerate())
    later.call_later(0, ran.set)  # after stop: ignored, nothing runs
    assert later.pending() == 0


def test_a_failing_call_does_not_stop_the_others() -> None:
    later = Later("test-later-errors")
    later.start()
    ok = threading.Event()
    try:
        later.call_later(0.01, lambda: 1 / 0)
        later.call_later(0.05, ok.set)
        assert ok.wait(5)
    finally:
        later.stop()
