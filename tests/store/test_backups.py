"""Backups: online copies, verified, kept N deep, listed newest first, restored with the
replaced file kept aside; refused while an engine runs on the file; the schedule."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from sophmate_desktop.domain.errors import BadInput, PolicyRefused
from sophmate_desktop.store import backups
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import Switch
from tests.support.db_faults import corrupt_middle, grow


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "sm.sqlite3"
    db = open_database(f"sqlite:///{path}")
    grow(db, events=500)
    db.close()
    return path


def test_a_backup_is_an_online_verified_copy_listed_newest_first(path: Path) -> None:
    db = open_database(f"sqlite:///{path}", create=False)  # a writer keeps it open (WAL)
    try:
        first = backups.take_backup(path, reason="manual")
        second = backups.take_backup(path, reason="scheduled")
    finally:
        db.close()
    assert first.verified and second.verified
    assert [b.path for b in backups.list_backups(path)] == [second.path, first.path]
    assert backups.quick_check(second.path) == []
    assert not Path(f"{second.path}-wal").exists()  # one file, no side files
    assert backups.newest_verified(path) == second


def test_pruning_keeps_the_newest_n_verified(path: Path) -> None:
    taken = [backups.take_backup(path, keep=3) for _ in range(5)]
    assert [b.path for b in backups.list_backups(path)] == [b.path for b in taken[:1:-1]]


def test_a_copy_that_fails_its_check_is_kept_as_failed_and_never_counted(path: Path) -> None:
    good = backups.take_backup(path)
    corrupt_middle(path)
    bad = backups.take_backup(path, keep=1)
    assert not bad.verified and bad.path.name.endswith(".failed")
    assert backups.newest_verified(path) == good  # the good one was not pruned
    assert good.path.exists()


def test_restore_puts_the_backup_in_place_and_keeps_the_corrupt_file_aside(path: Path) -> None:
    good = backups.take_backup(path)
    corrupt_middle(path)
    restored = backups.restore(path, backups.pick(path, None))
    assert restored.backup.path == good.path
    assert restored.set_aside is not None and restored.set_aside.name.startswith(
        "sm.sqlite3.corrupt-"
    )
    assert backups.quick_check(restored.set_aside) != []
    db = open_database(f"sqlite:///{path}", create=False)
    assert Switch.select().count() > 0
    db.close()


def test_restore_is_refused_while_an_engine_holds_the_file(path: Path) -> None:
    good = backups.take_backup(path)
    with backups.engine_lock(path), pytest.raises(PolicyRefused, match="an engine is running"):
        backups.restore(path, good)
    assert not list(path.parent.glob("*.corrupt-*"))


def test_pick_names_a_missing_backup(path: Path) -> None:
    with pytest.raises(BadInput, match="no verified backup"):
        backups.pick(path, None)
    with pytest.raises(BadInput, match="no backup 'nope'"):
        backups.pick(path, "nope")


def test_the_schedule_backs_up_at_start_when_due_then_waits(path: Path) -> None:
    stop = threading.Event()
    thread = threading.Thread(
        target=backups.run_schedule, args=(path, stop, lambda: (24.0, 7)), daemon=True
    )
    thread.start()
    try:
        for _ in range(100):
            if backups.list_backups(path):
                break
            stop.wait(0.05)
        assert len(backups.list_backups(path)) == 1
        assert not backups.due(path, timedelta(hours=24))
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert backups.list_backups(path)[0].reason == "scheduled"
