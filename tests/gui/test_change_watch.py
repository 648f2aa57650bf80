"""The change watch reads the marker off the main thread, skips a tick while a read
still runs (a slow database never piles reads up), and reports a failing database
once, not every second."""

from __future__ import annotations

import logging
import threading

from sophmate_desktop.console import Console
from sophmate_desktop.domain.names import EventKind
from sophmate_desktop.ui.change_watch import ChangeWatcher
from tests.support.factories import workflow_yaml


class Gate:
    """change_marker that records the thread it runs on and can be held shut."""

    def __init__(self, console: Console) -> None:
        self.read = console.change_marker
        self.open = threading.Event()
        self.open.set()
        self.threads: list[str] = []
        self.calls = 0

    def __call__(self) -> tuple[int, int]:
        self.calls += 1
        self.threads.append(threading.current_thread().name)
        assert self.open.wait(10), "the test never opened the gate"
        return self.read()


def test_a_commit_by_another_process_becomes_db_changed_read_off_the_main_thread(
    services, gui_db, qtbot, monkeypatch
):
    gate = Gate(services.console)
    monkeypatch.setattr(services.console, "change_marker", gate)
    watcher = ChangeWatcher(services.tasks, services.events, interval_ms=60_000)
    kinds: list[str] = []
    services.events.event_received.connect(lambda e: kinds.append(e.kind))
    with qtbot.waitSignal(watcher.checked, timeout=5000):
        watcher.start()  # the first read makes the pages catch up once
    with qtbot.waitSignal(watcher.checked, timeout=5000) as quiet:
        watcher.check()
    assert quiet.args == [False]
    Console(gui_db, actor="bo").import_workflow(workflow_yaml("intake", "finance"))
    with qtbot.waitSignal(watcher.checked, timeout=5000) as changed:
        watcher.check()
    assert changed.args == [True]
    assert kinds.count(EventKind.DB_CHANGED) == 2
    assert gate.threads and threading.main_thread().name not in gate.threads
    watcher.stop()
    assert services.tasks.wait_done(10_000)


def test_a_tick_during_a_slow_read_is_skipped(services, qtbot, monkeypatch):
    gate = Gate(services.console)
    gate.open.clear()  # the database is slow: the first read hangs
    monkeypatch.setattr(services.console, "change_marker", gate)
    watcher = ChangeWatcher(services.tasks, services.events, interval_ms=20)
    try:
        watcher.start()
        qtbot.waitUntil(lambda: watcher.skipped_ticks >= 5, timeout=5000)  # the timer runs on
        assert gate.calls == 1 and watcher.reading
        with qtbot.waitSignal(watcher.checked, timeout=5000):
            gate.open.set()
        qtbot.waitUntil(lambda: gate.calls >= 2, timeout=5000)  # the next tick reads again
    finally:
        gate.open.set()
        watcher.stop()
    assert services.tasks.wait_done(10_000)


def test_a_failing_database_is_reported_once_until_it_answers_again(
    services, qtbot, monkeypatch, caplog
):
    reported: list[tuple[str, BaseException]] = []
    services.tasks.task_failed.connect(lambda what, exc: reported.append((what, exc)))
    working = services.console.change_marker
    broken = {"yes": True}

    def marker() -> tuple[int, int]:
        if broken["yes"]:
            raise OSError("disk I/O error")
        return working()

    monkeypatch.setattr(services.console, "change_marker", marker)
    watcher = ChangeWatcher(services.tasks, services.events, interval_ms=60_000)
    caplog.set_level(logging.DEBUG, logger="sophmate_desktop.ui")
    with qtbot.waitSignal(watcher.checked, timeout=5000):
        watcher.start()
    for _ in range(3):
        with qtbot.waitSignal(watcher.checked, timeout=5000):
            watcher.check()
    assert [(what, str(exc)) for what, exc in reported] == [
        ("could not read the change marker", "disk I/O error")
    ]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info[0] is OSError
    broken["yes"] = False
    with qtbot.waitSignal(watcher.checked, timeout=5000):
        watcher.check()
    assert "the change marker can be read again" in caplog.text
    broken["yes"] = True
    with qtbot.waitSignal(watcher.checked, timeout=5000):
        watcher.check()
    assert len(reported) == 2  # a new streak is reported again
    watcher.stop()
    assert services.tasks.wait_done(10_000)


def test_stopping_during_a_read_leaves_no_thread_and_sends_nothing(services, qtbot, monkeypatch):
    gate = Gate(services.console)
    gate.open.clear()
    monkeypatch.setattr(services.console, "change_marker", gate)
    watcher = ChangeWatcher(services.tasks, services.events, interval_ms=60_000)
    checked: list[bool] = []
    watcher.checked.connect(checked.append)
    watcher.start()
    qtbot.waitUntil(lambda: gate.calls == 1)
    watcher.stop()
    gate.open.set()
    assert services.tasks.wait_done(10_000)
    qtbot.waitUntil(lambda: not watcher.reading)
    assert checked == [] and not watcher.running
