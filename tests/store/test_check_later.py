"""A big file opens without its quick check (the window runs it in the background):
reads go on at once, every write waits for the check, and a file that fails it
refuses writes with the backup to restore while nothing is written."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from sophmate_desktop.console import Console
from sophmate_desktop.domain.errors import DatabaseCorrupt
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import Switch, Workflow
from tests.support.db_faults import corrupt_middle, grown_file


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return grown_file(tmp_path / "sm.sqlite3")


def test_a_file_over_the_size_opens_with_its_check_pending(path: Path) -> None:
    db = open_database(f"sqlite:///{path}", check_later_above=path.stat().st_size)
    try:
        pending = db.pending_check
        assert pending is not None and not pending.done
        assert [w.name for w in Workflow.select()] == ["wf-fin"]  # reads do not wait
        Console(db, actor="ana").pause_all("incident")  # a write runs the check first
        assert pending.done and pending.error is None and db.pending_check is None
        assert Switch.get(Switch.name == "all").paused
    finally:
        db.close()


def test_a_smaller_file_is_checked_before_it_opens(path: Path) -> None:
    db = open_database(f"sqlite:///{path}", check_later_above=path.stat().st_size + 1)
    assert db.pending_check is None
    db.close()


def test_writes_wait_for_the_check_running_in_the_background(path: Path) -> None:
    db = open_database(f"sqlite:///{path}", check_later_above=0)
    try:
        pending = db.pending_check
        finished: list[object] = []
        done = threading.Event()
        pending.run_in_thread(lambda error: (finished.append(error), done.set()))
        Console(db, actor="ana").pause_all("incident")
        assert pending.done  # the pause waited for it
        assert done.wait(10) and finished == [None]
        assert pending.seconds > 0
    finally:
        pending.cancel()
        db.close()


def test_a_file_that_fails_the_later_check_refuses_every_write(path: Path) -> None:
    corrupt_middle(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    db = open_database(f"sqlite:///{path}", check_later_above=0)
    try:
        done = threading.Event()
        errors: list[object] = []
        db.pending_check.run_in_thread(lambda error: (errors.append(error), done.set()))
        assert done.wait(10)
        [error] = errors
        assert isinstance(error, DatabaseCorrupt) and str(path) in str(error)
        assert "restore" in str(error)  # names the backup (or that there is none)
        with pytest.raises(DatabaseCorrupt, match="corrupt"):
            Console(db, actor="ana").pause_all("incident")
        with pytest.raises(DatabaseCorrupt):  # and the next one, not only the first
            Console(db, actor="ana").pause_all("again")
    finally:
        db.close()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_a_file_to_migrate_is_checked_before_migrating(path: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM schema_version WHERE name = (SELECT max(name) FROM schema_version)")
    conn.commit()
    conn.close()
    corrupt_middle(path)
    with pytest.raises(DatabaseCorrupt):
        open_database(f"sqlite:///{path}", check_later_above=0)
