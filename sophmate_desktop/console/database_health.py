"""The database's health as the console offers it: the full integrity check (audit
verify), a kill switch that waits for a busy database until it commits, and the
engines that share the database (which are up, which went down, what they hold)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from sophmate_desktop.store import instances, integrity
from sophmate_desktop.store.busy import BusyWait, until_committed
from sophmate_desktop.store.rows import EngineRow

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

T = TypeVar("T")


class DatabaseHealthOps:
    def check_integrity(self: Console) -> None:
        """`PRAGMA integrity_check` (SQLite); raises DatabaseCorrupt naming the backup."""
        path = getattr(self.db, "sqlite_path", None)
        problems = integrity.integrity_check(self.db, path)
        if problems:
            more = f" and {len(problems) - 1} more problems" if len(problems) > 1 else ""
            raise integrity.corrupt(path, f"integrity check: {problems[0]}{more}")

    def through_busy(self: Console, work: Callable[[], T], wait: BusyWait) -> T:
        """`work` (a pause) retried while another process holds the database, until it
        commits or `wait.cancelled()`; see store/busy.py."""
        return until_committed(self.db, work, wait)

    def engines(self: Console) -> list[EngineRow]:
        """Every engine known to this database: up, down (its work is taken over by a
        living engine that serves it, within a tick of its lease's end) or stopped,
        with the runs and writes it holds now."""
        return instances.instance_rows(self.db)
