"""A kill switch gets through a busy database: it retries in short attempts while
another process holds the write lock, and commits when it is gone."""

from __future__ import annotations

from pathlib import Path

import pytest

from sophmate_desktop.console import Console
from sophmate_desktop.domain.errors import DatabaseBusy
from sophmate_desktop.store.busy import BusyWait, until_committed
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import Switch
from tests.support.db_faults import write_lock_held


def test_a_pause_waits_for_the_lock_and_commits_after_it(tmp_path: Path) -> None:
    path = tmp_path / "sm.sqlite3"
    db = open_database(f"sqlite:///{path}")
    try:
        console = Console(db, actor="ana")
        told: list[float] = []
        wait = BusyWait(waited=told.append, attempt_s=0.3)
        with write_lock_held(path, 1.5):
            row = until_committed(db, lambda: console.pause_all("incident"), wait)
        assert row.paused and Switch.get(Switch.name == "all").paused
        assert len(told) >= 2 and told == sorted(told)  # a countdown, each attempt
        assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 10000  # restored
    finally:
        db.close()


def test_giving_up_records_nothing_and_says_busy(tmp_path: Path) -> None:
    path = tmp_path / "sm.sqlite3"
    db = open_database(f"sqlite:///{path}")
    try:
        console = Console(db, actor="ana")
        wait = BusyWait(cancelled=lambda: True, attempt_s=0.2)
        with write_lock_held(path, 3), pytest.raises(DatabaseBusy, match="NOT recorded"):
            until_committed(db, lambda: console.pause_all("incident"), wait)
        assert not Switch.get(Switch.name == "all").paused
    finally:
        db.close()


def test_ctrl_c_while_the_countdown_prints_gives_up_and_records_nothing(tmp_path: Path) -> None:
    # SQLite's busy wait is C code: Ctrl-C is raised once it returns, often while the
    # countdown is printed, outside the attempt itself.
    path = tmp_path / "sm.sqlite3"
    db = open_database(f"sqlite:///{path}")

    def ctrl_c(_seconds: float) -> None:
        raise KeyboardInterrupt

    try:
        console = Console(db, actor="ana")
        wait = BusyWait(waited=ctrl_c, attempt_s=0.2)
        with write_lock_held(path, 3), pytest.raises(DatabaseBusy, match=r"interrupted.*NOT"):
            until_committed(db, lambda: console.pause_all("incident"), wait)
        assert not Switch.get(Switch.name == "all").paused
    finally:
        db.close()
