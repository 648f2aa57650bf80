"""The recording journal: outcomes of applied writes not yet recorded in the database.

The engine writes one small JSON file per batch of outcomes into the journal folder
next to the database (fsynced, renamed into place) BEFORE it asks the database to
record them, and removes the file once they are recorded. While the database refuses
(locked, read-only, full) the outcomes wait there and in the engine's memory; after a
crash the next engine records them from the file (`transitions/applying.replay_journal`)
instead of interrupting writes whose effect is known. The console reads the folder to
show such writes as "applied, recording..." (the window and the CLI run in other
threads or processes than the engine, on the same desktop).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import threading
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from peewee import Database

from sophmate_desktop.store.database import default_data_dir, is_sqlite

JOURNAL_ENV = "SOPHMATE_JOURNAL_DIR"
_counter = iter(range(1, 1 << 62))
_counter_lock = threading.Lock()


@dataclass(frozen=True)
class Outcome:
    """How one write's apply ended, as the engine knows it.

    `released`: never started (a pause or a shutdown came first): back to approved with
    this reason. `interrupted`: the engine stopped while applying (effect unknown)."""

    write_id: int
    error: str | None = None
    undo: dict | None = None
    bytes_written: int = 0
    cost: float = 0.0
    interrupted: bool = False
    retry: bool = True
    released: str | None = None

    def said(self) -> str:
        """What the write shows while its outcome waits for the database."""
        if self.released is not None:
            return "not started, recording..."
        if self.interrupted:
            return "interrupted, recording..."
        return "failed, recording..." if self.error else "applied, recording..."

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Outcome:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in doc.items() if k in names})


@dataclass(frozen=True)
class Entry:
    path: Path
    claimer: str
    outcomes: tuple[Outcome, ...]


def journal_dir_of(db: Database) -> Path:
    """The journal folder of `db`: next to a SQLite file, else in the data folder."""
    if os.environ.get(JOURNAL_ENV):
        return Path(os.environ[JOURNAL_ENV])
    if is_sqlite(db) and db.database and db.database != ":memory:":
        path = Path(db.database).resolve()
        return path.parent / f"{path.name}.outcomes"
    return default_data_dir() / f"outcomes-{db.database or 'db'}"


def _safe(claimer: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", claimer)[:80]


def write_entry(folder: Path, claimer: str, outcomes: list[Outcome]) -> Path:
    """Keep `outcomes` durably: written to a temporary file, fsynced, renamed into place
    and the folder fsynced. Raises OSError when it cannot (a full disk)."""
    folder.mkdir(parents=True, exist_ok=True)
    with _counter_lock:
        seq = next(_counter)
    path = folder / f"{_safe(claimer)}-{os.getpid()}-{seq}.json"
    doc = {"claimer": claimer, "outcomes": [asdict(o) for o in outcomes]}
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)
    return path


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_entry(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def read_entries(folder: Path) -> list[Entry]:
    """Every complete entry in the folder (a temporary file never counts)."""
    if not folder.is_dir():
        return []
    entries = []
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith("."):
            continue
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            outcomes = tuple(Outcome.from_dict(o) for o in doc["outcomes"])
            entries.append(Entry(path, str(doc["claimer"]), outcomes))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # removed meanwhile, or not ours
    return entries


def recording(db: Database) -> dict[int, str]:
    """Writes whose outcome waits in the journal: write id -> what it shows."""
    return {o.write_id: o.said() for e in read_entries(journal_dir_of(db)) for o in e.outcomes}
