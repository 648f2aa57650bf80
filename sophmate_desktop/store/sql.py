"""Every statement written as SQL text rather than built by peewee, in one place.

peewee builds each statement from an expression tree, which cost several times the
work itself on the hot paths (the intake of a burst of files, the switches read on
every run, a 10,000-write decision). The values still go through each field's
`db_value`, so rows are exactly what peewee would have written. Each statement here
runs on SQLite and PostgreSQL (tests/store/test_sql.py runs every one on both).

Also here: the lock that queues this process's writer threads (`queued_transaction`).
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from peewee import (
    SQL,
    CharField,
    Database,
    Field,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

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
def queued_transaction(db: Database) -> Iterator[None]:
    """`write_transaction`, with this process's engine threads queued on a lock first.

    SQLite lets one writer in at a time; a connection that finds the lock taken sleeps
    in its busy handler (1, 2, 5, 10 ... 100 ms steps) however soon the lock is free. A
    thread lock wakes the next writer thread the moment the previous one commits.
    """
    if not is_sqlite(db):
        with write_transaction(db):
            yield
        return
    with _writer_lock(db), write_transaction(db):
        yield


_MISSING = object()


def _stored_as_is(field: Field) -> type | None:
    """The Python type whose values (and None) this field's db_value returns unchanged:
    int for integer and foreign-key fields, str for text; None when it converts."""
    if isinstance(field, ForeignKeyField):
        field = field.rel_field
    if type(field).db_value is not Field.db_value:
        return None
    if isinstance(field, IntegerField):
        return int
    if isinstance(field, CharField | TextField):
        return str
    return None


class RawInsert:
    """INSERT of one model's rows with every column, defaults filled in as peewee does."""

    def __init__(self, model: type[Model], *, ignore_conflicts: bool = False) -> None:
        meta = model._meta
        self._fields = [f for f in meta.sorted_fields if f is not meta.primary_key]
        self._pk = meta.primary_key.column_name
        self._table = meta.table_name
        self._ignore = ignore_conflicts
        self._sql: dict[str, str] = {}
        # (name, default, default is a factory, db_value, type stored as is): looked up
        # once, not per row.
        self._columns = [
            (f.name, f.default, callable(f.default), f.db_value, _stored_as_is(f))
            for f in self._fields
        ]

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
        append = out.append
        missing = _MISSING
        for name, default, factory, db_value, as_is in self._columns:
            value = row.get(name, missing)
            if value is missing:
                value = default() if factory else default
            if as_is is not None and (value is None or value.__class__ is as_is):
                append(value)  # what db_value would return, without the calls
            else:
                append(db_value(value))
        return tuple(out)

    def insert(self, db: Database, cursor: Any, row: Mapping[str, Any]) -> int | None:
        """Insert one row; returns its id, or None when a conflict was ignored."""
        if is_sqlite(db):
            cursor.execute(self._statement(db, False), self.values(row))
            return cursor.lastrowid if cursor.rowcount == 1 else None
        cursor.execute(self._statement(db, True), self.values(row))
        found = cursor.fetchone()
        return None if found is None else found[0]

    def insert_many(self, db: Database, cursor: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert rows in one executemany, without their ids."""
        cursor.executemany(self._statement(db, False), [self.values(r) for r in rows])

    def insert_counted(self, db: Database, cursor: Any, row: Mapping[str, Any]) -> bool:
        """Insert one row without asking for its id; False when a conflict was ignored."""
        cursor.execute(self._statement(db, False), self.values(row))
        return cursor.rowcount == 1


def workflow_not_in(field: Any, workflow_ids: Collection[int]) -> Any:
    """`field NOT IN (ids)`, or no condition at all for no ids: the runs and writes of
    workflows bound to other engines, left out of what an engine takes."""
    return field.not_in(list(workflow_ids)) if workflow_ids else SQL("1 = 1")


def id_list(db: Database, ids: Sequence[int]) -> SQL:
    """`(?, ?, ...)` for `Field.in_(...)`, built as one string: peewee builds an IN
    list value by value, a fifth of a 10,000-write decision."""
    return SQL("(" + ", ".join([db.param] * len(ids)) + ")", list(ids))


def _params(db: Database, n: int) -> str:
    return ", ".join([db.param] * n)


PAUSED_SWITCHES_SQL = (
    'SELECT "scope", "name", "paused_by", "paused_reason", "paused_at" FROM "switch" '
    'WHERE "paused" UNION ALL SELECT NULL, "name", "paused_by", "paused_reason", '
    '"paused_at" FROM "category" WHERE "paused"'
)


def paused_switches(db: Database) -> list[tuple]:
    """(scope or None for a category, name, paused_by, reason, paused_at) of every
    paused switch and category: one query, on every run's path."""
    return list(db.execute_sql(PAUSED_SWITCHES_SQL))


def workflow_state_rows(db: Database, names: Sequence[str]) -> list[tuple]:
    """(id, name, category, revision, stage, paused, paused_reason) of the named workflows."""
    if not names:
        return []
    sql = (
        'SELECT w."id", w."name", c."name", w."revision", w."stage", w."paused", '
        'w."paused_reason" FROM "workflow" AS w JOIN "category" AS c ON c."id" = '
        f'w."category_id" WHERE w."name" IN ({_params(db, len(names))})'
    )
    return list(db.execute_sql(sql, list(names)))


def workflow_ids(db: Database) -> dict[str, int]:
    """Every workflow's id by name."""
    return dict(db.execute_sql('SELECT "name", "id" FROM "workflow"').fetchall())


def known_versions(db: Database, versions: Sequence[tuple[int, str]]) -> set[tuple]:
    """Of (workflow id, path) pairs, the (workflow id, path, size, mtime_ns) versions
    the ledger holds already (one query per 500 pairs)."""
    known: set[tuple] = set()
    for start in range(0, len(versions), CHUNK):
        chunk = versions[start : start + CHUNK]
        paths = list({path for _, path in chunk})
        wf_ids = list({wf_id for wf_id, _ in chunk})
        sql = (
            'SELECT "workflow_id", "path", "size", "mtime_ns" FROM "ledger_entry" '
            f'WHERE "workflow_id" IN ({_params(db, len(wf_ids))}) '
            f'AND "path" IN ({_params(db, len(paths))})'
        )
        known.update(map(tuple, db.execute_sql(sql, wf_ids + paths).fetchall()))
    return known


def link_ledger(db: Database, cursor: Any, links: Sequence[tuple]) -> None:
    """Point ledger entries at their runs: (run id, workflow id, path, size, mtime_ns)."""
    p = db.param
    cursor.executemany(
        f'UPDATE "ledger_entry" SET "run_id" = {p} WHERE "workflow_id" = {p} '
        f'AND "path" = {p} AND "size" = {p} AND "mtime_ns" = {p}',
        list(links),
    )


def run_states(db: Database, run_ids: Sequence[int]) -> list[tuple]:
    """(id, status, mode, started_at as stored) of the runs (one query per 500)."""
    out: list[tuple] = []
    for start in range(0, len(run_ids), CHUNK):
        chunk = list(run_ids[start : start + CHUNK])
        statement = (
            'SELECT "id", "status", "mode", "started_at" FROM "run" '
            f'WHERE "id" IN ({_params(db, len(chunk))})'
        )
        out += db.execute_sql(statement, chunk).fetchall()
    return out


def set_run_figures(db: Database, figures: Sequence[tuple]) -> None:
    """A planned run's figures: (bytes_read, actions, affected_records, cost,
    duration_ms, run id) each; never its status (that is the gate's)."""
    if not figures:
        return
    p = db.param
    cursor = db.cursor()
    try:
        cursor.executemany(
            f'UPDATE "run" SET "bytes_read" = {p}, "actions" = {p}, "affected_records" = {p}, '
            f'"cost" = {p}, "duration_ms" = {p} WHERE "id" = {p}',
            list(figures),
        )
    finally:
        cursor.close()


def set_write_results(db: Database, results: Sequence[tuple[str | None, float, int]]) -> None:
    """What applied writes left: (undo as stored, i.e. `Write.undo.db_value`, cost added,
    write id) each, in one executemany; never a write's status (that is the gate's)."""
    if not results:
        return
    p = db.param
    cursor = db.cursor()
    try:
        cursor.executemany(
            f'UPDATE "write" SET "undo" = {p}, "cost" = "cost" + {p} WHERE "id" = {p}',
            list(results),
        )
    finally:
        cursor.close()


def open_writes(
    db: Database, run_ids: Sequence[int], moving: Sequence[str], waiting: Sequence[str]
) -> dict[int, tuple[bool, bool]]:
    """For each run (of those that exist): (a write of it is in one of the `moving`
    statuses, one is in a `waiting` status), each an index seek (write_run_status), not a
    read of the run's writes: settling asks this after every applied batch."""
    out: dict[int, tuple[bool, bool]] = {}
    probe = 'EXISTS (SELECT 1 FROM "write" AS w WHERE w."run_id" = r."id" AND w."status" IN ({}))'
    for start in range(0, len(run_ids), CHUNK):
        chunk = list(run_ids[start : start + CHUNK])
        statement = (
            f'SELECT r."id", {probe.format(_params(db, len(moving)))}, '
            f"{probe.format(_params(db, len(waiting)))} "
            f'FROM "run" AS r WHERE r."id" IN ({_params(db, len(chunk))})'
        )
        rows = db.execute_sql(statement, [*moving, *waiting, *chunk]).fetchall()
        out.update({run_id: (bool(m), bool(w)) for run_id, m, w in rows})
    return out


def approved_writes_of(db: Database, run_ids: Sequence[int]) -> list[tuple[int, int]]:
    """(write id, run id) of the approved writes of the runs, in write id order."""
    out: list[tuple[int, int]] = []
    for start in range(0, len(run_ids), CHUNK):
        chunk = list(run_ids[start : start + CHUNK])
        statement = (
            'SELECT "id", "run_id" FROM "write" WHERE "status" = '
            f'{db.param} AND "run_id" IN ({_params(db, len(chunk))}) ORDER BY "id"'
        )
        out += db.execute_sql(statement, ["approved", *chunk]).fetchall()
    return out


def data_version(db: Database) -> int | None:
    """SQLite's counter of commits by other connections (None on PostgreSQL)."""
    if not is_sqlite(db):
        return None
    return db.execute_sql("PRAGMA data_version").fetchone()[0]


CHUNK = 500


# The audit trail: a raw executemany (peewee's per-row SQL building cost five times
# the insert itself) and verify's pages.
def insert_audit_rows(
    db: Database, columns: Sequence[str], rows: Sequence[tuple], chunk: int
) -> None:
    statement = (
        f"INSERT INTO audit_event ({', '.join(columns)}) VALUES ({_params(db, len(columns))})"
    )
    cursor = db.cursor()
    try:
        for start in range(0, len(rows), chunk):
            cursor.executemany(statement, rows[start : start + chunk])
    finally:
        cursor.close()


def audit_page(
    db: Database, columns: Sequence[str], after_id: int, limit: int, *, hashed_in_sql: bool
) -> Any:
    """The events after `after_id` in order: with `hashed_in_sql` (SQLite) each row as
    (id, prev_hash, hash, the text hashed) built by json_array, which writes the same
    compact JSON as the audit log's encoder for the integers, text and NULLs stored
    there; else every column in `columns` order."""
    page = f"FROM audit_event WHERE id > {db.param} ORDER BY id LIMIT {int(limit)}"
    if hashed_in_sql:
        head = ", ".join(columns[:9])
        statement = (
            f"SELECT id, prev_hash, hash, prev_hash || json_array({head}) || char(10) "
            f"|| details {page}"
        )
    else:
        statement = f"SELECT {', '.join(columns)} {page}"
    return db.execute_sql(statement, (after_id,))


# Schema and file probes (DB-API connections opened outside peewee, and the schema table).
def latest_migration(db: Database, table: str) -> tuple | None:
    return db.execute_sql(f"SELECT name FROM {table} ORDER BY name DESC LIMIT 1").fetchone()


def count_rows(conn: Any, table: str) -> int:
    """Rows of `table` through a plain DB-API connection (a read-only SQLite probe)."""
    (count,) = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
    return count


def postgres_probe(conn: Any, table: str) -> tuple[str, list[str]]:
    """(server version, migrations applied) through a psycopg connection."""
    version = conn.execute("SHOW server_version").fetchone()[0]
    has_schema = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]
    applied = (
        [r[0] for r in conn.execute(f"SELECT name FROM {table} ORDER BY name")]
        if has_schema
        else []
    )
    return version, applied
