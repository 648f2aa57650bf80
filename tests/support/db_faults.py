"""Real database faults for tests and trials: another process holding the write lock,
bytes overwritten in the middle of the file, a read-only file or folder."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


@contextlib.contextmanager
def write_lock_held(path: Path, seconds: float) -> Iterator[subprocess.Popen]:
    """A second process holds `BEGIN IMMEDIATE` on `path` for `seconds` (from when this
    yields); left, it is waited for (or killed if the test failed early)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        if proc.stdout is not None:
            proc.stdout.close()


def checkpoint(path: Path) -> None:
    """Move the WAL into the file, so that bytes of the file are the data."""
    conn = sqlite3.connect(str(path))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def corrupt_middle(path: Path) -> int:
    """Overwrite a page in the middle of the file (a table's or an index's) with
    garbage; returns the page number."""
    checkpoint(path)
    page_size = 4096
    pages = path.stat().st_size // page_size
    page = max(2, pages // 2)
    with open(path, "r+b") as fh:
        fh.seek((page - 1) * page_size)
        fh.write(bytes((i * 37 + 11) % 256 for i in range(page_size)))
    return page


def grow(db, events: int = 3000) -> None:
    """Give the file enough pages (audit events: a real table and its indexes) that its
    middle is a page of the product's own data."""
    from sophmate_desktop.domain.names import AuditAction
    from sophmate_desktop.store import audit
    from sophmate_desktop.store.database import write_transaction

    batch = [
        audit.NewEvent(actor="filler", action=AuditAction.SETTING_CHANGED, subject=f"s{i}" * 20)
        for i in range(events)
    ]
    with write_transaction(db):
        audit.append_many(db, batch)


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` (a file or a folder) mode 0444/0555 meanwhile."""
    mode = path.stat().st_mode
    os.chmod(path, 0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        os.chmod(path, mode)


def grown_file(path: Path) -> Path:
    """A SQLite file with a workflow and enough pages (grow), in a state of the file this
    process has not quick-checked yet (touched after closing)."""
    from sophmate_desktop.console import Console
    from sophmate_desktop.store.database import open_database
    from tests.support.factories import workflow_yaml

    db = open_database(f"sqlite:///{path}")
    Console(db, actor="lead").import_workflow(workflow_yaml("wf-fin", "finance"))
    grow(db)
    db.close()
    path.touch()
    return path
