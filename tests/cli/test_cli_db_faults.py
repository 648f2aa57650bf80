"""The CLI on a database in trouble, in real processes: each fault has its own exit
code and a message that names it; `db restore` brings a corrupt file back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sophmate_desktop.domain.errors import ExitCode
from sophmate_desktop.store.database import open_database
from tests.support.db_faults import corrupt_middle, grow, read_only, write_lock_held
from tests.support.paths import REPO


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "sm.sqlite3"
    db = open_database(f"sqlite:///{path}")
    grow(db)
    db.close()
    return path


def cli(path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sophmate_desktop", "--db", f"sqlite:///{path}", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_corrupt_file_is_named_and_restored_from_its_backup(path: Path) -> None:
    assert cli(path, "db", "backup").returncode == 0
    corrupt_middle(path)
    listed = cli(path, "category", "list")
    assert listed.returncode == ExitCode.DB_CORRUPT, listed.stderr
    assert "is corrupt" in listed.stderr and "db restore" in listed.stderr
    assert "Traceback" not in listed.stderr
    restored = cli(path, "db", "restore", "--reason", "test")
    assert restored.returncode == 0, restored.stderr
    assert cli(path, "category", "list").returncode == 0
    audit = cli(path, "audit", "list", "--json")
    assert "database.restored" in audit.stdout
    assert list(path.parent.glob("sm.sqlite3.corrupt-*"))  # the broken file is kept


def test_a_read_only_file_reads_and_refuses_writes_by_name(path: Path) -> None:
    with read_only(path):
        listed = cli(path, "category", "list")
        assert listed.returncode == 0, listed.stderr
        assert "read-only" in listed.stderr
        paused = cli(path, "category", "pause", "--all", "--reason", "drill")
    assert paused.returncode == ExitCode.DB_READ_ONLY, paused.stderr
    assert "read-only" in paused.stderr and "Traceback" not in paused.stderr


def test_a_pause_waits_out_a_locked_database_and_commits(path: Path) -> None:
    with write_lock_held(path, 4):
        paused = cli(path, "category", "pause", "--all", "--reason", "incident", timeout=90)
    assert paused.returncode == 0, paused.stderr
    assert "database busy" in paused.stderr  # the countdown was shown
    listed = cli(path, "category", "list", "--json")
    assert '"paused": true' in listed.stdout
