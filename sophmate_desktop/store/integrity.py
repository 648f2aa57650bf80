"""A database in trouble, named: the integrity check on open, and the errors of the
driver (locked, read-only, full, corrupt, gone) turned into the product's own.

`fault_of(exc, db_path)` is what the command line's top level and the window call on
any exception: it returns the `DatabaseError` subclass that says what happened (with
the newest backup and the `db restore` command for a corrupt file), or None.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import peewee

from sophmate_desktop.domain.errors import (
    DatabaseBusy,
    DatabaseCorrupt,
    DatabaseError,
    DatabaseFull,
    DatabaseReadOnly,
    DatabaseUnreachable,
)
from sophmate_desktop.store import backups

PROG = "sophmate-desktop"
# What SQLite says, lower-cased, -> the error it is. Matched on text: peewee re-raises
# the driver's errors as its own classes without the result code.
_SQLITE_TEXTS: tuple[tuple[str, type[DatabaseError]], ...] = (
    ("database is locked", DatabaseBusy),
    ("database table is locked", DatabaseBusy),
    ("readonly database", DatabaseReadOnly),
    ("database or disk is full", DatabaseFull),
    ("disk image is malformed", DatabaseCorrupt),
    ("file is not a database", DatabaseCorrupt),
    ("unable to open database", DatabaseUnreachable),
    ("disk i/o error", DatabaseUnreachable),
)
# PostgreSQL (psycopg) words for a server that went away.
_GONE = ("connection", "server closed", "terminating", "could not receive", "could not send")
_DRIVER_ERRORS = (sqlite3.Error, peewee.DatabaseError, peewee.InterfaceError)


def restore_hint(db_path: Path) -> str:
    """The newest verified backup and the command that restores it (or that there is none)."""
    newest = backups.newest_verified(db_path)
    command = f"{PROG} --db sqlite:///{db_path} db restore"
    if newest is None:
        return (
            f"no verified backup in {backups.backup_dir(db_path)}; keep a copy of the file "
            f"and restore one you have with `{command} BACKUP`"
        )
    return (
        f"newest backup: {newest.path} (taken {newest.taken_at:%Y-%m-%d %H:%M} UTC); "
        f"restore it with `{command}`"
    )


def corrupt(db_path: Path, problem: str) -> DatabaseCorrupt:
    problem = " ".join(problem.split())
    return DatabaseCorrupt(
        f"the database {db_path} is corrupt ({problem}); {restore_hint(db_path)}"
    )


def check_on_open(uri: str, db_path: Path) -> float:
    """Run `PRAGMA quick_check` on the file; raise DatabaseCorrupt naming the backup.
    Returns the seconds it took (about 0.07 s per 100 MB from the page cache)."""
    start = time.perf_counter()
    problems = backups.quick_check(uri, uri=True)
    if problems:
        raise corrupt(db_path, _short(problems))
    return time.perf_counter() - start


def integrity_check(db: peewee.Database, db_path: Path | None) -> list[str]:
    """The full `PRAGMA integrity_check` (SQLite; [] when sound, also on PostgreSQL)."""
    if not isinstance(db, peewee.SqliteDatabase):
        return []
    try:
        rows = [str(r[0]) for r in db.execute_sql("PRAGMA integrity_check").fetchall()]
    except _DRIVER_ERRORS as exc:
        rows = [str(exc)]
    return [] if rows == ["ok"] else rows


def _short(problems: list[str]) -> str:
    more = f" and {len(problems) - 1} more problems" if len(problems) > 1 else ""
    return " ".join(problems[0].split()) + more


def _kind(exc: BaseException) -> type[DatabaseError] | None:
    text = str(exc).lower()
    return next((k for t, k in _SQLITE_TEXTS if t in text), None)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def driver_text(exc: BaseException) -> str:
    """What the driver said that names the fault (locked, full, read-only, corrupt),
    not the "cannot rollback - no transaction is active" peewee raises over it."""
    named = next((e for e in _chain(exc) if _kind(e) is not None), exc)
    text = str(named).strip()
    return text.splitlines()[0] if text else type(named).__name__


def fault_of(
    exc: BaseException, db_path: Path | None, *, busy_s: float = 10.0
) -> DatabaseError | None:
    """The database error `exc` is, in the product's words; None: it is not one."""
    if isinstance(exc, DatabaseError):
        return exc
    if not isinstance(exc, _DRIVER_ERRORS):
        return None
    # SQLite rolls a full or corrupt transaction back itself; peewee's own rollback then
    # fails ("no transaction is active") over the error that says what happened.
    exc = next((e for e in _chain(exc) if _kind(e) is not None), exc)
    text = driver_text(exc)
    where = f"the database {db_path}" if db_path is not None else "the database"
    kind = _kind(exc)
    if kind is DatabaseBusy:
        return DatabaseBusy(
            f"{where} is busy (locked by another process) for {busy_s:.0f} s; "
            "nothing was changed: try again when the other process is done"
        )
    if kind is DatabaseReadOnly:
        return DatabaseReadOnly(
            f"{where} is read-only (file, folder or file system): this command writes, "
            "nothing was changed"
        )
    if kind is DatabaseFull:
        return DatabaseFull(
            f"{where} cannot grow: the disk is full ({text}); nothing was written, "
            "free some space and try again"
        )
    if kind is DatabaseCorrupt:
        return corrupt(db_path, text) if db_path is not None else DatabaseCorrupt(text)
    gone = isinstance(exc, peewee.InterfaceError) or any(w in text.lower() for w in _GONE)
    if kind is DatabaseUnreachable or gone:
        return DatabaseUnreachable(f"cannot reach {where}: {text}")
    return None


# Opening: read-only, and checked once ------------------------------------------

# The window checks a file this big in the background: quick_check reads about 100 MB
# in 0.07 s from the page cache, so below this a person never waits for it.
CHECK_IN_BACKGROUND_BYTES = 64 * 1024 * 1024

# (path, inode, size, mtime) of each file checked by this process: a file changed since
# (even rewritten in place) is checked again; an unchanged one is not re-read.
_checked: set[tuple] = set()


def _writable(path: Path) -> bool:
    # Mode bits as well as access(): root may write a 0444 file, but its owner said no.
    try:
        return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)
    except OSError:
        return False


def read_only_params(path: Path) -> dict[str, str] | None:
    """The URI parameters that open `path` read-only, or None when it can be written.

    A WAL database needs its -shm and -wal files: in a folder that cannot be written,
    where they are not there already, SQLite can only read the file as immutable."""
    if not path.exists():
        return None
    folder_ok = _writable(path.parent)
    if _writable(path) and (folder_ok or Path(f"{path}-shm").exists()):
        return None
    side_files = Path(f"{path}-shm").exists() and Path(f"{path}-wal").exists()
    if folder_ok or side_files:
        return {"mode": "ro"}
    return {"mode": "ro", "immutable": "1"}


def _unchecked_key(path: Path) -> tuple | None:
    """The file's state when this process has not checked it as it is now, else None."""
    try:
        st = path.stat()
    except OSError:
        return None
    if st.st_size == 0:
        return None
    key = (str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns)
    return None if key in _checked else key


def check_once(uri: str, path: Path) -> None:
    """`PRAGMA quick_check` unless this process checked the file as it is now."""
    key = _unchecked_key(path)
    if key is None:
        return
    check_on_open(uri, path)
    _checked.add(key)


class PendingCheck:
    """The quick check of a file that opened without it (the window: on a big history
    it takes seconds). Writes wait for it (`ensure`, called by `write_transaction`);
    reads do not. `run_in_thread` runs it in the background, `cancel` stops it there."""

    def __init__(self, uri: str, path: Path, key: tuple) -> None:
        self.uri, self.path, self._key = uri, path, key
        self.error: DatabaseCorrupt | None = None
        self.seconds = 0.0
        self._lock = threading.Lock()
        self._done = False
        self._cancelled = False
        self._conn: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None

    @property
    def done(self) -> bool:
        return self._done

    def ensure(self) -> None:
        """Check now unless it was done (waiting for a check in progress); raise
        DatabaseCorrupt when the file failed it."""
        if not self._done:
            with self._lock:
                if not self._done:
                    self._check()
        if self.error is not None:
            raise self.error

    def _check(self) -> None:
        start = time.perf_counter()
        problems = backups.quick_check(self.uri, uri=True, connected=self._connected)
        self._conn = None
        if self._cancelled:  # interrupted: neither passed nor failed; a write checks again
            self._cancelled = False
            return
        self.seconds = time.perf_counter() - start
        if problems:
            self.error = corrupt(self.path, _short(problems))
        else:
            _checked.add(self._key)
        self._done = True

    def _connected(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def run_in_thread(self, finished: Callable[[DatabaseCorrupt | None], None]) -> None:
        """Check on a thread of its own; `finished(error or None)` is called there once
        the check passed or failed (not when cancelled)."""

        def work() -> None:
            try:
                self.ensure()
            except DatabaseCorrupt:
                pass
            if self._done:
                finished(self.error)

        self._thread = threading.Thread(target=work, name="sophmate-quick-check", daemon=True)
        self._thread.start()

    def cancel(self, timeout: float = 5.0) -> None:
        """Interrupt a check running in the background and wait for its thread."""
        if self._thread is None:
            return
        conn = self._conn
        if conn is not None and not self._done:
            self._cancelled = True
            conn.interrupt()
        self._thread.join(timeout)


def check_later(uri: str, path: Path) -> PendingCheck | None:
    """A PendingCheck of the file, or None when this process checked it as it is now."""
    key = _unchecked_key(path)
    return None if key is None else PendingCheck(uri, path, key)


def refuse_pending(db: peewee.Database, path: Path | None, pending: list[str]) -> None:
    """A read-only database whose schema is older than this code cannot be migrated."""
    if pending:
        raise DatabaseReadOnly(
            f"the database {path} is read-only and needs a schema update "
            f"({len(pending)} migrations) before this version can use it"
        )
