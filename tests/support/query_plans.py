"""The statements a console call runs (captured from peewee's query log) and their
SQLite query plans, judged: a full scan of a big table (run, write, audit_event) is a
plan that grows with the history.

Allowed scans: walking a big table in the ORDER BY's order (its key or an index)
under a LIMIT, without a sort (a page that stops when it is full), and scanning a
partial index (it holds only what waits: unreviewed runs, waiting writes).
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BIG_TABLES = ("run", "write", "audit_event")
PARTIAL_INDEXES = (
    "run_unreviewed",
    "run_reviewed_ok",
    "run_held",
    "write_pending",
    "write_interrupted",
    "write_applying",
)
_ALIAS = re.compile(r'(?:FROM|JOIN)\s+"(\w+)"\s+AS\s+"(\w+)"')
_BARE = re.compile(r'(?:FROM|JOIN)\s+"(\w+)"(?!\s+AS)')


@dataclass(frozen=True)
class Statement:
    sql: str
    params: tuple
    plan: tuple[str, ...]

    def full_scans(self) -> list[str]:
        """The plan lines that scan a big table in full."""
        tables = {alias: table for table, alias in _ALIAS.findall(self.sql)}
        tables.update({table: table for table in _BARE.findall(self.sql)})
        sorts = any(line.startswith("USE TEMP B-TREE FOR ORDER BY") for line in self.plan)
        bad = []
        for line in self.plan:
            match = re.match(r"SCAN (\w+)(.*)", line)
            if not match or tables.get(match.group(1)) not in BIG_TABLES:
                continue
            alias, rest = match.groups()
            if any(f"INDEX {name}" in rest for name in PARTIAL_INDEXES):
                continue
            ordered = re.search(rf'ORDER BY [^;]*"{alias}"\.', self.sql) and not sorts
            if ordered and " LIMIT " in self.sql:
                continue
            bad.append(line)
        return bad


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[tuple[str, tuple]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            sql, params = record.msg
            self.statements.append((sql, tuple(params or ())))


@contextmanager
def captured() -> Iterator[list[tuple[str, tuple]]]:
    """The (sql, params) peewee runs inside the block."""
    logger = logging.getLogger("peewee")
    handler, level = _Capture(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.statements
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def plans(db: Any, call: Callable[[], Any]) -> list[Statement]:
    """Run `call` and return the SELECTs it ran, each with its query plan."""
    with captured() as statements:
        call()
    out = []
    for sql, params in statements:
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        rows = db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        out.append(Statement(sql, params, tuple(row[3] for row in rows)))
    return out


def scale_statistics(path: Path, factor: int) -> None:
    """ANALYZE, then multiply the big tables' sqlite_stat1 row counts by `factor` (the
    averages of columns that are not near-unique too), as if they held that many
    times the rows: the shape of a million-run history without writing one."""
    con = sqlite3.connect(path)
    with con:
        con.execute("ANALYZE")
        rows = con.execute("SELECT tbl, idx, stat FROM sqlite_stat1").fetchall()
        for tbl, idx, stat in rows:
            if tbl not in BIG_TABLES:
                continue
            numbers = stat.split()
            scaled = [str(int(n) * factor) if n.isdigit() and int(n) > 1 else n for n in numbers]
            con.execute(
                "UPDATE sqlite_stat1 SET stat = ? WHERE tbl = ? AND idx IS ?",
                (" ".join(scaled), tbl, idx),
            )
    con.close()
