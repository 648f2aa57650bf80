"""The content-addressed store of previous file contents, kept so a write can be undone.

A blob lives at DATA_DIR/undo/sha256[:2]/sha256. The data folder is beside the
database file for SQLite, else the user's data folder (SOPHMATE_UNDO_DIR names
another); files over BLOB_LIMIT are not kept (their write says so), and blobs older
than the retention are removed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

from peewee import Database

from sophmate_desktop.store.database import default_data_dir, is_sqlite

BLOB_LIMIT = 64 * 1024 * 1024  # previous content kept for undo up to 64 MiB a file
DEFAULT_RETENTION_DAYS = 30
UNDO_DIR_ENV = "SOPHMATE_UNDO_DIR"


def undo_dir_of(db: Database) -> Path:
    """Where the undo blobs of `db` are kept (SOPHMATE_UNDO_DIR names another folder)."""
    if os.environ.get(UNDO_DIR_ENV):
        return Path(os.environ[UNDO_DIR_ENV])
    if is_sqlite(db) and db.database and db.database != ":memory:":
        return Path(db.database).resolve().parent / "undo"
    return default_data_dir() / "undo"


def blob_path(root: Path, sha: str) -> Path:
    return root / sha[:2] / sha


def put_file(root: Path, source: Path) -> str | None:
    """Keep `source`'s bytes; its sha256, or None when it is over BLOB_LIMIT."""
    if source.stat().st_size > BLOB_LIMIT:
        return None
    data = source.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    path = blob_path(root, sha)
    if path.exists():
        os.utime(path)  # kept again: its retention starts over
        return sha
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{sha}.{os.getpid()}.tmp")
    temp.write_bytes(data)
    os.replace(temp, path)
    return sha


def read_blob(root: Path, sha: str) -> bytes | None:
    try:
        return blob_path(root, sha).read_bytes()
    except OSError:
        return None


def prune(root: Path, retention_days: float) -> int:
    """Remove blobs older than `retention_days`; returns how many were removed."""
    if not root.is_dir():
        return 0
    cutoff = time.time() - retention_days * 86400
    removed = 0
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        for blob in folder.iterdir():
            try:
                if blob.stat().st_mtime < cutoff:
                    blob.unlink()
                    removed += 1
            except OSError:
                continue
        if not any(folder.iterdir()):
            shutil.rmtree(folder, ignore_errors=True)
    return removed


def prune_for(db: Database) -> int:
    """Apply the `undo_retention_days` setting to `db`'s undo store (at engine start)."""
    from sophmate_desktop.store.models import Setting

    row = Setting.get_or_none(Setting.key == "undo_retention_days")
    days = DEFAULT_RETENTION_DAYS if row is None else float(row.value)
    return prune(undo_dir_of(db), days)
