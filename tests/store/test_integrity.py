"""A database in trouble is named: corrupt (with the backup to restore), read-only
(opened for reading), full (nothing half-written, writes again when space returns)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import peewee
import pytest

from sophmate_desktop.console import Console
from sophmate_desktop.domain.errors import (
    DatabaseBusy,
    DatabaseCorrupt,
    DatabaseFull,
    DatabaseReadOnly,
    ExitCode,
)
from sophmate_desktop.store import backups, integrity
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import AuditEvent, Switch
from tests.support.db_faults import corrupt_middle, grow, read_only, write_lock_held


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "sm.sqlite3"
    db = open_database(f"sqlite:///{path}")
    grow(db)
    db.close()
    return path


def test_a_sound_file_passes_the_quick_check_on_open(path: Path) -> None:
    db = open_database(f"sqlite:///{path}", create=False)
    assert not db.read_only
    assert integrity.integrity_check(db, path) == []
    db.close()


def test_a_page_overwritten_in_the_middle_is_named_corrupt_with_the_newest_backup(
    path: Path,
) -> None:
    older = backups.take_backup(path, reason="manual")
    newest = backups.take_backup(path, reason="scheduled")
    corrupt_middle(path)
    with pytest.raises(DatabaseCorrupt) as caught:
        open_database(f"sqlite:///{path}", create=False)
    text = str(caught.value)
    assert caught.value.exit_code == ExitCode.DB_CORRUPT
    assert f"the database {path} is corrupt" in text
    assert str(newest.path) in text and str(older.path) not in text
    assert f"sophmate-desktop --db sqlite:///{path} db restore" in text
    assert "\n" not in text


def test_a_corrupt_file_without_backups_says_there_is_none(path: Path) -> None:
    corrupt_middle(path)
    with pytest.raises(DatabaseCorrupt, match="no verified backup in"):
        open_database(f"sqlite:///{path}", create=False)


def test_a_read_only_file_opens_read_only_and_refuses_writes_by_name(path: Path) -> None:
    with read_only(path):
        db = open_database(f"sqlite:///{path}", create=False)
        try:
            assert db.read_only
            assert Switch.select().count() > 0
            console = Console(db, actor="ana")
            with pytest.raises(peewee.OperationalError) as caught:
                console.pause_all("incident")
            fault = integrity.fault_of(caught.value, path)
            assert isinstance(fault, DatabaseReadOnly)
            assert fault.exit_code == ExitCode.DB_READ_ONLY
            assert "read-only" in str(fault) and "nothing was changed" in str(fault)
        finally:
            db.close()
    assert not Switch.select().where(Switch.paused == True).exists()


def test_a_read_only_folder_without_the_wal_files_opens_immutable(path: Path) -> None:
    assert not Path(f"{path}-shm").exists()  # closed cleanly: SQLite removed them
    with read_only(path.parent):
        assert integrity.read_only_params(path) == {"mode": "ro", "immutable": "1"}
        db = open_database(f"sqlite:///{path}", create=False)
        try:
            assert db.read_only and Switch.select().count() > 0
        finally:
            db.close()
        assert not Path(f"{path}-shm").exists()  # nothing was created in the folder


def test_a_read_only_folder_with_the_wal_files_is_not_immutable(
    path: Path,
) -> None:
    keeper = sqlite3.connect(str(path))  # keeps -wal and -shm in place
    keeper.execute("SELECT count(*) FROM sqlite_master").fetchall()
    try:
        assert Path(f"{path}-shm").exists()
        with read_only(path.parent):
            # The file can be written and its WAL files are there: it opens read-write.
            assert integrity.read_only_params(path) is None
            with read_only(path):
                assert integrity.read_only_params(path) == {"mode": "ro"}
                db = open_database(f"sqlite:///{path}", create=False)
                try:
                    assert db.read_only and Switch.select().count() > 0
                finally:
                    db.close()
    finally:
        keeper.close()


def test_a_full_database_says_so_writes_nothing_and_writes_again_when_space_returns(
    path: Path,
) -> None:
    db = open_database(f"sqlite:///{path}", create=False)
    try:
        console = Console(db, actor="ana")
        pages = db.execute_sql("PRAGMA page_count").fetchone()[0]
        db.execute_sql(f"PRAGMA max_page_count = {pages}")
        before = AuditEvent.select().count()
        with pytest.raises(peewee.OperationalError) as caught:
            grow(db, events=2000)
        fault = integrity.fault_of(caught.value, path)
        assert isinstance(fault, DatabaseFull) and fault.exit_code == ExitCode.DB_FULL
        assert "disk is full" in str(fault) and "nothing was written" in str(fault)
        assert AuditEvent.select().count() == before
        db.execute_sql(f"PRAGMA max_page_count = {pages * 100}")  # space returns
        console.pause_all("incident")
        assert Switch.get(Switch.name == "all").paused
    finally:
        db.close()


def test_a_locked_database_is_named_busy(path: Path) -> None:
    db = open_database(f"sqlite:///{path}", create=False)
    try:
        db.execute_sql("PRAGMA busy_timeout = 200")
        with write_lock_held(path, 3), pytest.raises(peewee.OperationalError) as caught:
            Console(db, actor="ana").pause_all("incident")
        fault = integrity.fault_of(caught.value, path, busy_s=0.2)
        assert isinstance(fault, DatabaseBusy) and fault.exit_code == ExitCode.DB_BUSY
        assert "locked by another process" in str(fault)
    finally:
        db.close()


def test_other_errors_are_not_database_faults(path: Path) -> None:
    assert integrity.fault_of(ValueError("no"), path) is None
    assert integrity.fault_of(peewee.OperationalError("no such table: x"), path) is None
