"""The monitor's waits: asked from this process, hinted by a watched SQLite file, and the
data_version polling kept for a folder that cannot be watched (engine/monitor_wait.py)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from sophmate_desktop.engine.monitor_wait import (
    HINT_SPACING_S,
    Bell,
    CommitFollower,
    MonitorWait,
)
from sophmate_desktop.store import sql
from sophmate_desktop.store.database import open_database

LONG = 60.0  # a timeout no test waits for: returning sooner proves what woke the wait


def in_thread(fn) -> tuple[threading.Thread, dict]:
    box: dict = {}

    def body() -> None:
        box["result"] = fn()

    t = threading.Thread(target=body, daemon=True)
    t.start()
    return t, box


def commit_elsewhere(path: Path) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("CREATE TABLE IF NOT EXISTS elsewhere (x)")
        con.execute("INSERT INTO elsewhere VALUES (1)")
    finally:
        con.close()


@pytest.fixture
def sqlite_file(tmp_path: Path):
    path = tmp_path / "db.sqlite3"
    db = open_database(f"sqlite:///{path}", create=True)
    yield db, path
    db.close()


def test_an_ask_ends_a_wait_and_a_hint_is_ignored_without_hints() -> None:
    bell = Bell()
    bell.hint()
    t0 = time.monotonic()
    assert bell.wait(0.05, hints=False) is False  # the hint did not end it early
    assert time.monotonic() - t0 >= 0.045
    bell = Bell()
    t, box = in_thread(lambda: bell.wait(LONG, hints=True))
    bell.ask()
    t.join(10)
    assert box["result"] is True


def test_hints_end_a_wait_at_most_once_per_spacing() -> None:
    bell = Bell()
    bell.hint()
    assert bell.wait(LONG, hints=True) is False  # at once: no hint answered before
    bell.hint()
    t0 = time.monotonic()
    assert bell.wait(LONG, hints=True) is False
    assert time.monotonic() - t0 >= HINT_SPACING_S * 0.9


def test_another_connections_commit_hints_while_followed(sqlite_file) -> None:
    _db, path = sqlite_file
    seen = threading.Event()
    follower = CommitFollower(path, seen.set)
    try:
        assert follower.follow() is True
        commit_elsewhere(path)
        assert seen.wait(10)
        follower.rest()
        assert follower._observer is not None and not follower._observer.emitters
        seen.clear()
        assert follower.follow() is True  # watching again after a rest
        commit_elsewhere(path)
        assert seen.wait(10)
    finally:
        follower.close()
    names = {t.name for t in threading.enumerate()}
    assert "sophmate-commit-follower" not in names


def test_an_idle_wait_ends_at_another_processes_commit_not_its_tick(sqlite_file) -> None:
    db, path = sqlite_file
    waits = MonitorWait(db, busy=lambda: False, tick_s=LONG, idle_tick_s=LONG, sqlite_path=path)
    try:
        version = sql.data_version(db)
        assert waits.wait(None, version + 1) is False  # already changed: look at once
        # data_version is per connection: the waiting thread reads its own
        t, box = in_thread(lambda: waits.wait(None, sql.data_version(db)))
        # The first wait started the watch; commits only count once it is on.
        deadline = time.monotonic() + 10
        while t.is_alive() and time.monotonic() < deadline:
            commit_elsewhere(path)
            t.join(0.2)
        assert not t.is_alive()
        assert box["result"] is False  # a hint: the monitor's data_version check decides
        assert sql.data_version(db) != version
    finally:
        waits.close()


def test_a_busy_wait_drops_the_watch_and_sleeps_to_its_tick(sqlite_file) -> None:
    db, path = sqlite_file
    busy = [False]
    waits = MonitorWait(db, busy=lambda: busy[0], tick_s=0.05, idle_tick_s=LONG, sqlite_path=path)
    try:
        waits.ask()
        assert waits.wait(None, sql.data_version(db)) is True  # follows, then asked
        follower = waits._follower
        assert follower is not None and follower._watch is not None
        busy[0] = True
        t0 = time.monotonic()
        assert waits.wait(None, sql.data_version(db)) is False
        assert time.monotonic() - t0 >= 0.045
        assert follower._watch is None
    finally:
        waits.close()


def test_an_unwatchable_folder_falls_back_to_polling(sqlite_file, tmp_path: Path) -> None:
    db, path = sqlite_file
    nowhere = tmp_path / "gone" / "db.sqlite3"
    waits = MonitorWait(db, busy=lambda: False, tick_s=LONG, idle_tick_s=LONG, sqlite_path=nowhere)
    try:
        started = threading.Event()

        def wait() -> bool:
            version = sql.data_version(db)
            started.set()
            return waits.wait(None, version)

        t, box = in_thread(wait)
        assert started.wait(10)
        commit_elsewhere(path)
        t.join(10)
        assert box["result"] is True  # the poll saw data_version change
        assert waits._follower is not None and waits._follower.follow() is False
    finally:
        waits.close()
