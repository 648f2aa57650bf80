"""A write that must get through a busy database: a kill switch.

`until_committed(db, work, wait)` runs `work` (one transaction) and, while another
process holds SQLite's write lock, tries again in short attempts (`attempt_s` of busy
timeout each) until it commits, telling `wait.waited(seconds)` after each failed
attempt so that the caller shows a countdown. `wait.cancelled()` (a Cancel button,
Ctrl-C: KeyboardInterrupt) ends the wait with DatabaseBusy, nothing written.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import peewee

from sophmate_desktop.domain.errors import DatabaseBusy

T = TypeVar("T")
ATTEMPT_S = 1.0


def is_busy(exc: BaseException) -> bool:
    """A lock held by another process (also under a failed rollback that hides it)."""
    current: BaseException | None = exc
    for _ in range(5):
        if current is None:
            return False
        text = str(current).lower()
        if "database is locked" in text or "database table is locked" in text:
            return True
        current = current.__context__
    return False


@dataclass
class BusyWait:
    """How to wait: what to tell after each attempt, and whether to give up."""

    waited: Callable[[float], None] = lambda _s: None
    cancelled: Callable[[], bool] = lambda: False
    attempt_s: float = ATTEMPT_S
    attempts: list[float] = field(default_factory=list)  # seconds at each failed attempt


@contextlib.contextmanager
def _busy_timeout(db: peewee.Database, seconds: float) -> Iterator[None]:
    if not isinstance(db, peewee.SqliteDatabase):
        yield  # PostgreSQL waits for a row lock by itself: no "locked" error to retry
        return
    before = db.execute_sql("PRAGMA busy_timeout").fetchone()[0]
    db.execute_sql(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
    try:
        yield
    finally:
        db.execute_sql(f"PRAGMA busy_timeout = {int(before)}")


def until_committed(db: peewee.Database, work: Callable[[], T], wait: BusyWait) -> T:
    start = time.monotonic()
    try:
        return _attempts(db, work, wait, start)
    except KeyboardInterrupt:
        # Ctrl-C lands wherever Python is: in an attempt, or while the countdown prints
        # (SQLite's busy wait is C code; the signal is raised once it returns).
        raise _gave_up(db, start, "interrupted") from None


def _attempts(db: peewee.Database, work: Callable[[], T], wait: BusyWait, start: float) -> T:
    while True:
        try:
            with _busy_timeout(db, wait.attempt_s):
                return work()
        except peewee.OperationalError as exc:
            if not is_busy(exc):
                raise
        waited = time.monotonic() - start
        wait.attempts.append(waited)
        if wait.cancelled():
            raise _gave_up(db, start, "cancelled")
        wait.waited(waited)


def _gave_up(db: peewee.Database, start: float, how: str) -> DatabaseBusy:
    where = getattr(db, "url_display", "the database")
    return DatabaseBusy(
        f"{how} after {time.monotonic() - start:.0f} s: {where} is busy (locked by another "
        "process); the change was NOT recorded, try again"
    )
