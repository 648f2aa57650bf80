"""Benchmark of the hash-chained audit log (DESIGN section 9).

    python -m bench.audit [--events N] [--db URL] [--batch N] [--json]

Appends N events (append_many, one write transaction per batch) spread over 50
workflows and 8 categories with `at` increasing over 60 days, and inserts the same
rows with raw sqlite3 executemany into a table of the same shape in another
temporary file (the baseline). Then times verify() and two audit-screen queries.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import report
from sophmate_desktop.store import audit, queries
from sophmate_desktop.store.database import open_database, write_transaction
from sophmate_desktop.store.models import AuditEvent

WORKFLOWS = 50
CATEGORIES = 8
SPAN = timedelta(days=60)
START = datetime(2025, 1, 1)
ACTORS = ("engine", "ana", "bo", "chidi", "dana")
ACTIONS = ("run.started", "run.succeeded", "write.planned", "write.approved", "write.applied")
VERIFY_GOAL = 300_000  # events/s
QUERY_GOAL_MS = 20.0
LATENCY_RUNS = 20
COLUMNS = (
    "id, at, actor, action, subject, category, workflow, run, details, reason, prev_hash, hash"
)


@dataclass
class Figures:
    events: int
    database: str
    batch: int
    append_s: float
    append_rate: float
    baseline_rate: float
    baseline_ratio: float
    verify_s: float
    verify_rate: float
    verify_cpu_rate: float  # by this process's CPU time: what the rate is on an idle machine
    verify_ok: bool
    workflow_last100_ms: float
    workflow_last100_rows: int
    category_day_ms: float
    category_day_rows: int
    category_day_sql_ms: float  # the same query, raw cursor: what the database itself costs
    load_average: tuple[float, float] | None  # 1-minute load before and after: other work

    def checks(self) -> list[tuple[str, float, str, str, bool]]:
        """(goal, measured value, unit, target, passed)."""
        return [
            (
                "verify",
                self.verify_rate,
                "events/s",
                f">= {VERIFY_GOAL:,} events/s",
                self.verify_ok and self.verify_rate >= VERIFY_GOAL,
            ),
            (
                "last 100 events of one workflow",
                self.workflow_last100_ms,
                "ms",
                f"< {QUERY_GOAL_MS:g} ms",
                self.workflow_last100_ms < QUERY_GOAL_MS,
            ),
            (
                f"one category, one day ({self.category_day_rows:,} rows)",
                self.category_day_ms,
                "ms",
                f"< {QUERY_GOAL_MS:g} ms",
                self.category_day_ms < QUERY_GOAL_MS,
            ),
        ]


def workflow_name(i: int) -> str:
    return f"wf-{i:02d}"


def category_name(i: int) -> str:
    return f"cat-{i}"


def make_events(first: int, count: int, total: int) -> list[audit.NewEvent]:
    """Events first..first+count-1 (0-based) of `total`, `at` spread evenly over SPAN."""
    step = SPAN / total
    events = []
    for i in range(first, first + count):
        wf = i % WORKFLOWS
        events.append(
            audit.NewEvent(
                actor=ACTORS[i % len(ACTORS)],
                action=ACTIONS[i % len(ACTIONS)],
                subject=f"write {i}",
                category=category_name(wf % CATEGORIES),
                workflow=workflow_name(wf),
                run=i // 10 + 1,
                details={"seq": i, "target": f"/srv/out/{wf}/{i}.csv", "rows": i % 97},
                reason="approved after review" if i % 7 == 0 else None,
                at=START + step * i,
            )
        )
    return events


def batches(total: int, size: int) -> Iterator[tuple[int, int]]:
    for first in range(0, total, size):
        yield first, min(size, total - first)


def open_baseline(path: Path) -> sqlite3.Connection:
    """A raw connection to a file holding the same audit_event table (made by migration)."""
    open_database(f"sqlite:///{path}").close()
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=1")
    conn.execute("PRAGMA cache_size=-64000")
    return conn


def load(
    db, conn: sqlite3.Connection, total: int, size: int, progress: bool
) -> tuple[float, float]:
    """Append through audit, then the same rows through raw executemany; both timed."""
    select = f"SELECT {COLUMNS} FROM audit_event WHERE id > {db.param} ORDER BY id"
    insert = f"INSERT INTO audit_event ({COLUMNS}) VALUES ({', '.join('?' * 12)})"
    append_s = baseline_s = 0.0
    for first, count in batches(total, size):
        events = make_events(first, count, total)
        t0 = time.perf_counter()
        with write_transaction(db):
            ids = audit.append_many(db, events)
        append_s += time.perf_counter() - t0
        rows = db.execute_sql(select, (ids[0] - 1,)).fetchall()
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(insert, rows)
        conn.execute("COMMIT")
        baseline_s += time.perf_counter() - t0
        if progress and (first + count) % 100_000 < size:
            print(f"  appended {first + count:,} events", file=sys.stderr, flush=True)
    return append_s, baseline_s


def median_ms(fn: Callable[[], Any], runs: int = LATENCY_RUNS) -> tuple[float, Any]:
    result = fn()  # warm-up, not counted
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


def load_1min() -> float | None:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def run(total: int, url: str | None, size: int, progress: bool = False) -> Figures:
    load_before = load_1min()
    with tempfile.TemporaryDirectory(prefix="sophmate-bench-") as tmp:
        conn = open_baseline(Path(tmp) / "baseline.sqlite3")
        db = open_database(url or f"sqlite:///{Path(tmp) / 'audit.sqlite3'}")
        try:
            if AuditEvent.select().exists():
                raise SystemExit(f"{db.url_display} already holds audit events: use an empty one")
            append_s, baseline_s = load(db, conn, total, size, progress)
            conn.close()
            if progress:
                print("  verifying", file=sys.stderr, flush=True)
            t0, cpu0 = time.perf_counter(), time.process_time()
            result = audit.verify(db)
            verify_s, verify_cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
            last_ms, last_rows = median_ms(
                lambda: queries.list_audit(workflow=workflow_name(17), limit=100)
            )
            since = START + SPAN / 2
            day = queries.audit_query(
                category=category_name(3), since=since, until=since + timedelta(days=1)
            )
            day_ms, day_rows = median_ms(
                lambda: queries.list_audit(
                    category=category_name(3),
                    since=since,
                    until=since + timedelta(days=1),
                    limit=1_000_000,
                    ascending=True,
                )
            )
            day_sql_ms, _ = median_ms(lambda: db.execute_sql(*day.sql()).fetchall())
            return Figures(
                events=total,
                database=db.url_display,
                batch=size,
                append_s=append_s,
                append_rate=total / append_s,
                baseline_rate=total / baseline_s,
                baseline_ratio=append_s / baseline_s,
                verify_s=verify_s,
                verify_rate=result.checked / verify_s,
                verify_cpu_rate=result.checked / max(verify_cpu_s, 1e-9),
                verify_ok=result.ok and result.checked == total,
                workflow_last100_ms=last_ms,
                workflow_last100_rows=len(last_rows),
                category_day_ms=day_ms,
                category_day_rows=len(day_rows),
                category_day_sql_ms=day_sql_ms,
                load_average=(load_before, load_1min()) if load_before is not None else None,
            )
        finally:
            db.close()


def table(f: Figures) -> str:
    load = "n/a"
    if f.load_average is not None:
        load = f"{f.load_average[0]:.2f} before, {f.load_average[1]:.2f} after"
    lines = [
        f"audit log benchmark: {f.events:,} events, {f.database}, {f.batch:,} per transaction",
        "",
        f"append (audit.append_many)   {f.append_rate:>12,.0f} events/s  ({f.append_s:.1f} s)",
        f"baseline (sqlite3 executemany) {f.baseline_rate:>10,.0f} rows/s",
        f"append time / baseline time  {f.baseline_ratio:>12.1f}x",
        f"verify                       {f.verify_rate:>12,.0f} events/s  ({f.verify_s:.2f} s, "
        f"{'chain intact' if f.verify_ok else 'CHAIN NOT VERIFIED'}; "
        f"{f.verify_cpu_rate:,.0f}/s by CPU time)",
        f"last 100 of one workflow     {f.workflow_last100_ms:>12.2f} ms (median of "
        f"{LATENCY_RUNS}, {f.workflow_last100_rows} rows)",
        f"one category, one day        {f.category_day_ms:>12.2f} ms (median of "
        f"{LATENCY_RUNS}, {f.category_day_rows:,} rows as frozen AuditRow; "
        f"SQL alone {f.category_day_sql_ms:.2f} ms)",
        f"load average (1 min)         {load}",
        "",
        f"{'goal':<40} {'measured':>18} {'target':>20}  result",
    ]
    for name, value, unit, target, ok in f.checks():
        measured = f"{value:,.0f} {unit}" if unit == "events/s" else f"{value:.2f} {unit}"
        lines.append(f"{name:<40} {measured:>18} {target:>20}  {'PASS' if ok else 'FAIL'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--batch", type=int, default=10_000, help="events per transaction")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if args.events < 1 or args.batch < 1:
        parser.error("--events and --batch must be at least 1")
    figures = run(args.events, args.db, args.batch, progress=not args.json)
    return report(figures, table, args.json, ("name", "value", "unit", "target", "pass"))


if __name__ == "__main__":
    sys.exit(main())
