"""SQL for the engine's hot paths: inserts built once from the peewee models and run
on the DB-API cursor, and the lock that queues this process's engine writers.

peewee builds every statement from an expression tree, which cost several times the
insert itself on the intake path (a burst of files). The values still go through each
field's `db_value`, so the rows are exactly what peewee would have written.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

from peewee import Database, Model

from sophmate_desktop.store.database import is_sqlite, write_transaction

_locks: weakref.WeakKeyDictionary[Database, threading.RLock] = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


def _writer_lock(db: Database) -> threading.RLock:
    with _locks_guard:
        lock = _locks.get(db)
        if lock is None:
            lock = _locks[db] = threading.RLock()
        return lock


@contextlib.contextmanager
def engine_transaction(db: Database) -> Iterator[None]:
    """`write_transaction`, with this process's engine threads queued on a lock first.

    SQLite lets one writer in at a time; a connection that finds the lock taken sleeps
    in its busy handler (1, 2, 5, 10 ... 100 ms steps) however soon the lock is free. A
    thread lock wakes the next engine writer the moment the previous one commits.
    """
    if not is_sqlite(db):
        with write_transaction(db):
            yield
        return
    with _writer_lock(db), write_transaction(db):
        yield


class RawInsert:
    """INSERT of one model's rows with every column, defaults filled in as peewee does."""

    def __init__(self, model: type[Model], *, ignore_conflicts: bool = False) -> None:
        meta = model._meta
        self._fields = [f for f in meta.sorted_fields if f is not meta.primary_key]
        self._pk = meta.primary_key.column_name
        self._table = meta.table_name
        self._ignore = ignore_conflicts
        self._sql: dict[str, str] = {}

    def _statement(self, db: Database, returning: bool) -> str:
        key = f"{db.param}{returning}"
        sql = self._sql.get(key)
        if sql is None:
            columns = ", ".join(f'"{f.column_name}"' for f in self._fields)
            params = ", ".join([db.param] * len(self._fields))
            sql = f'INSERT INTO "{self._table}" ({columns}) VALUES ({params})'
            if self._ignore:
                sql += " ON CONFLICT DO NOTHING"
            if returning:
                sql += f' RETURNING "{self._pk}"'
            self._sql[key] = sql
        return sql

    def values(self, row: Mapping[str, Any]) -> tuple:
        out = []
        for f in self._fields:
            if f.name in row:
                value = row[f.name]
            else:
                value = f.default() if callable(f.default) else f.default
            out.append(f.db_value(value))
        return tuple(out)

    def insert(self, db: Database, cursor: Any, row: Mapping[str, Any]) -> int | None:
        """Insert one row; returns its id, or None when a conflict was ignored."""
        if is_sqlite(db):
            cursor.execute(self._statement(db, False), self.values(row))
            return cursor.lastrowid if cursor.rowcount == 1 else None
        cursor.execute(self._statement(db, True), self.values(row))
        found = cursor.fetchone()
        return None if found is None else found[0]

    def insert_counted(self, db: Database, cursor: Any, row: Mapping[str, Any]) -> bool:
        """Insert one row without asking for its id; False when a conflict was ignored."""
        cursor.execute(self._statement(db, False), self.values(row))
        return cursor.rowcount == 1
