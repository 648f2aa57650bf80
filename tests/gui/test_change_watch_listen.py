"""On the team database the window hears another process's commit from PostgreSQL's
own notification (LISTEN), not from its tick: with the tick at a minute, a pause made
by another process reaches the pages within seconds."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sophmate_desktop.console import Console
from sophmate_desktop.domain.names import EventKind
from sophmate_desktop.store.database import open_database
from sophmate_desktop.ui.bridge import EventBridge
from sophmate_desktop.ui.change_watch import ChangeWatcher
from sophmate_desktop.ui.tasks import TaskRunner

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_tasks(pg_url):
    db = open_database(pg_url)
    console = Console(db, actor="ana")
    bridge = EventBridge()
    tasks = TaskRunner(console)
    yield tasks, bridge
    assert tasks.wait_done(30_000)
    db.close()


def test_another_process_pause_wakes_the_window_without_a_tick(qtbot, pg_url, pg_tasks):
    tasks, bridge = pg_tasks
    watcher = ChangeWatcher(tasks, bridge, interval_ms=60_000)
    kinds: list[str] = []
    bridge.event_received.connect(lambda e: kinds.append(e.kind))
    with qtbot.waitSignal(watcher.checked, timeout=10_000):  # the first read
        watcher.start()
    try:
        qtbot.waitUntil(lambda: watcher.listening, timeout=10_000)
        assert watcher._timer.interval() >= 10_000  # the tick is only the fallback now
        kinds.clear()
        pause = [sys.executable, "-m", "sophmate_desktop", "--db", pg_url,
                 "category", "pause", "--all", "--reason", "incident"]
        with qtbot.waitSignal(watcher.checked, timeout=15_000,
                              check_params_cb=lambda changed: changed):
            subprocess.run(pause, check=True, capture_output=True, timeout=60)
        assert EventKind.DB_CHANGED in kinds
    finally:
        watcher.stop()
    assert not watcher.listening
