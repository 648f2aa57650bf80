"""Benchmark of the console's history reads at 10k / 100k / 1M runs (issue 16, item 3).

    python -m bench.history [--sizes 10000,100000,1000000] [--cache DIR] [--repeat N]
                            [--stats none,analyze,optimize] [--json]

Each size is a SQLite file built once with raw sqlite3 executemany into the schema the
product's migrations create (tests/support/history_fill.py: 60 workflows in 8
categories, runs over a year, mostly succeeded, some failed, rejected, held, queued or
waiting for approval, their writes, pending and interrupted ones, and ten audit events
per run, so 10,000,000 events at 1,000,000 runs). The files are kept in `--cache DIR`
(default: a temporary folder, deleted at the end) so that a re-run skips the build;
a cached file is migrated in place when the code has newer migrations.

Every hot read the window and the CLI make (tests/support/history_queries.py: the
dashboard, reviews, runs, inbox, tray, switch panel, workflows and audit pages) is
timed as the median of N calls after one warm-up call, under three kinds of SQLite
statistics:

- none: no sqlite_stat1 (a database that never ran ANALYZE);
- analyze: a full `ANALYZE` (cached beside the file as JSON, so a re-run skips it);
- optimize: what the product does: every read runs once, then `PRAGMA optimize` with
  its analysis limit (store.database.optimize), on a file without statistics.

Goal: every read < 50 ms at every size, in every kind of statistics.

    python -m bench.history --window [--cache DIR] [--pending 100000] [--json]

opens the main window (offscreen, 1024x700, no engine) on the largest size with
--pending writes waiting (added to a cached copy: pending writes of the runs that
wait for approval) and times what a person waits for (bench/window.py): the window
shown, the dashboard read, the first rows of the Inbox and of Runs, the runs grid,
and the longest gap between main-thread ticks meanwhile. Goals: first rows < 300 ms,
no main-thread gap > 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import report

GOAL_MS = 50.0
SIZES = (10_000, 100_000, 1_000_000)
STATS = ("none", "analyze", "optimize")
FILL_VERSION = 1  # bump when tests/support/history_fill.py writes other rows


@dataclass
class SizeFigures:
    runs: int
    writes: int
    audit_events: int
    build_s: float | None  # None: taken from the cache
    build_cached: bool
    analyze_s: float | None
    file_mib: float
    ms: dict[str, dict[str, float]] = field(default_factory=dict)  # stats -> query -> ms


@dataclass
class Figures:
    sizes: list[SizeFigures]
    repeat: int
    stats: list[str]
    queries: list[str]
    load_average: tuple[float, float, float] | None  # before
    load_average_after: tuple[float, float, float] | None

    def checks(self) -> list[tuple[str, int, str, float, str, bool]]:
        """(query, runs, stats, ms, target, passed): the worst statistics per size."""
        out = []
        for size in self.sizes:
            for name in self.queries:
                worst_stats, worst = max(
                    ((s, size.ms[s][name]) for s in self.stats if s in size.ms),
                    key=lambda item: item[1],
                )
                target = f"< {GOAL_MS:g} ms"
                out.append((name, size.runs, worst_stats, worst, target, worst < GOAL_MS))
        return out


def load_average() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except OSError:
        return None


def log(text: str, quiet: bool) -> None:
    if not quiet:
        print(text, file=sys.stderr, flush=True)


# The build -------------------------------------------------------------------


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def built(cache: Path, runs: int, quiet: bool) -> tuple[Path, dict[str, Any], bool]:
    """The cached file for `runs` (built now when missing): path, meta, from the cache."""
    from tests.support.history_fill import fill

    path = cache / f"history-{runs}-v{FILL_VERSION}.sqlite3"
    meta_file = _meta_path(path)
    if path.exists() and meta_file.exists():
        return path, json.loads(meta_file.read_text()), True
    partial = path.with_name(path.name + ".building")
    from sophmate_desktop.store.database import remove_sqlite_files

    remove_sqlite_files(partial)
    log(f"building {runs:,} runs in {path} ...", quiet)
    start = time.perf_counter()
    filled = fill(partial, runs, batch=50_000)
    build_s = time.perf_counter() - start
    os.replace(partial, path)  # a half-built file never passes for a cached one
    checkpoints = partial.with_name(partial.name + ".checkpoints")  # the imports' audit
    if checkpoints.exists():
        os.replace(checkpoints, path.with_name(path.name + ".checkpoints"))
    meta = {
        "runs": filled.runs,
        "writes": filled.writes,
        "audit_events": filled.audit_events,
        "now": filled.now.isoformat(),
        "production_workflow": filled.production_workflow,
        "staging_workflow": filled.staging_workflow,
        "build_s": build_s,
    }
    meta_file.write_text(json.dumps(meta))
    log(f"  built in {build_s:.1f} s", quiet)
    return path, meta, False


def migrate_in_place(path: Path) -> None:
    """A file cached by older code gets the newer migrations (no backup copy: a cache)."""
    from peewee import SqliteDatabase

    from sophmate_desktop.store.database import migrate
    from sophmate_desktop.store.models import database_proxy

    db = SqliteDatabase(str(path), pragmas={"journal_mode": "wal"})
    database_proxy.initialize(db)
    migrate(db)
    db.close()


# Statistics -------------------------------------------------------------------


def drop_statistics(path: Path) -> None:
    con = sqlite3.connect(path)
    for table in ("sqlite_stat1", "sqlite_stat4"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.commit()
    con.close()


def _stat_rows(path: Path) -> list[list[Any]]:
    con = sqlite3.connect(path)
    rows = [list(r) for r in con.execute("SELECT tbl, idx, stat FROM sqlite_stat1")]
    con.close()
    return rows


def _put_stat_rows(path: Path, rows: list[list[Any]]) -> None:
    drop_statistics(path)
    con = sqlite3.connect(path)
    con.execute("ANALYZE sqlite_schema")  # creates an empty sqlite_stat1
    con.execute("DELETE FROM sqlite_stat1")
    con.executemany("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)", rows)
    con.commit()
    con.close()


def analyzed(path: Path) -> float | None:
    """A full ANALYZE (its time), or the statistics it gave last time (None)."""
    schema = _schema_key(path)
    cached = path.with_name(path.name + ".analyze.json")
    if cached.exists():
        doc = json.loads(cached.read_text())
        if doc.get("schema") == schema:
            _put_stat_rows(path, doc["rows"])
            return None
    drop_statistics(path)
    con = sqlite3.connect(path)
    start = time.perf_counter()
    con.execute("ANALYZE")
    con.commit()
    took = time.perf_counter() - start
    con.close()
    cached.write_text(json.dumps({"schema": schema, "rows": _stat_rows(path), "s": took}))
    return took


def _schema_key(path: Path) -> str:
    con = sqlite3.connect(path)
    names = sorted(r[0] for r in con.execute("SELECT name FROM sqlite_schema WHERE type='index'"))
    con.close()
    return ",".join(names)


# Timing -----------------------------------------------------------------------


@contextmanager
def opened(path: Path) -> Iterator[Any]:
    from sophmate_desktop.console import Console
    from sophmate_desktop.store.database import open_database

    db = open_database(f"sqlite:///{path}", create=False)
    try:
        yield Console(db, actor="reader")
    finally:
        db.close()


def median_ms(call: Callable[[], Any], repeat: int) -> float:
    call()  # warm-up: the page cache and the statement cache
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def time_queries(path: Path, calls: dict[str, Any], stats: str, repeat: int) -> dict[str, float]:
    from sophmate_desktop.store.database import optimize

    if stats == "none":
        drop_statistics(path)
    elif stats == "optimize":
        drop_statistics(path)
        with opened(path) as console:
            for call in calls.values():
                call(console)
            optimize(console.db)
    with opened(path) as console:
        return {name: median_ms(lambda c=call: c(console), repeat) for name, call in calls.items()}


def measure(cache: Path, runs: int, stat_kinds: list[str], repeat: int, quiet: bool) -> SizeFigures:
    from datetime import datetime

    from tests.support.history_queries import hot_queries

    path, meta, cached = built(cache, runs, quiet)
    migrate_in_place(path)
    now = datetime.fromisoformat(meta["now"])
    calls = hot_queries(meta["production_workflow"], meta["staging_workflow"], runs // 2, now=now)
    figures = SizeFigures(
        runs=meta["runs"],
        writes=meta["writes"],
        audit_events=meta["audit_events"],
        build_s=None if cached else meta["build_s"],
        build_cached=cached,
        analyze_s=None,
        file_mib=path.stat().st_size / 2**20,
    )
    for stats in stat_kinds:
        if stats == "analyze":
            figures.analyze_s = analyzed(path)
        log(f"  {runs:,} runs, statistics {stats}: timing {len(calls)} reads", quiet)
        figures.ms[stats] = time_queries(path, calls, stats, repeat)
    drop_statistics(path)
    return figures


# Report -----------------------------------------------------------------------


def table(f: Figures) -> str:
    lines = [
        "bench.history: console reads, median of "
        f"{f.repeat} after a warm-up (ms); each cell: " + " / ".join(f.stats),
        f"load average before {_load(f.load_average)}, after {_load(f.load_average_after)}",
        "",
    ]
    for s in f.sizes:
        how = "from the cache" if s.build_cached else f"built in {s.build_s:.1f} s"
        analyze = "" if s.analyze_s is None else f", ANALYZE {s.analyze_s:.1f} s"
        lines.append(
            f"{s.runs:,} runs, {s.writes:,} writes, {s.audit_events:,} audit events "
            f"({s.file_mib:,.0f} MiB, {how}{analyze})"
        )
    lines.append("")
    width = max(len(q) for q in f.queries)
    head = f"{'query':<{width}} " + " ".join(f"{_size(s.runs):>22}" for s in f.sizes)
    lines += [head + f" {'goal':>8}  met", "-" * (len(head) + 14)]
    checks = {(q, runs): ok for q, runs, _stats, _ms, _target, ok in f.checks()}
    for q in f.queries:
        cells = []
        for s in f.sizes:
            cells.append(" / ".join(f"{s.ms[st][q]:.1f}" for st in f.stats if st in s.ms))
        met = all(checks[(q, s.runs)] for s in f.sizes)
        lines.append(
            f"{q:<{width}} "
            + " ".join(f"{c:>22}" for c in cells)
            + f" {'< ' + format(GOAL_MS, 'g'):>8}  {'yes' if met else 'NO'}"
        )
    return "\n".join(lines)


def _size(runs: int) -> str:
    return f"{runs // 1_000_000}M" if runs % 1_000_000 == 0 else f"{runs // 1000}k"


def _load(value: tuple[float, float, float] | None) -> str:
    return "n/a" if value is None else " ".join(f"{v:.2f}" for v in value)


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes: {text!r} is not a list of run counts")
    if not sizes or any(n < 1000 for n in sizes):
        raise argparse.ArgumentTypeError("--sizes: give run counts of 1000 or more")
    return sizes


def _stats(text: str) -> list[str]:
    kinds = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [k for k in kinds if k not in STATS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"--stats: use some of {', '.join(STATS)}")
    return kinds


WINDOW_GOALS_MS = {
    "inbox first rows": 300.0,
    "runs first rows": 300.0,
    "longest main-thread gap while opening": 100.0,
}


def with_pending(cache: Path, runs: int, pending: int, quiet: bool) -> Path:
    """A copy of the `runs` file with `pending` more writes waiting (cached)."""
    source, _meta, _cached = built(cache, runs, quiet)
    path = cache / f"history-{runs}-v{FILL_VERSION}-pending{pending}.sqlite3"
    if path.exists():
        return path
    partial = path.with_name(path.name + ".building")
    log(f"adding {pending:,} pending writes in {path} ...", quiet)
    with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
        src.backup(dst)
    con = sqlite3.connect(partial)
    try:
        waiting = con.execute(
            "SELECT r.id, r.workflow_id, c.name FROM run r JOIN workflow w ON w.id = r.workflow_id "
            "JOIN category c ON c.id = w.category_id WHERE r.status = 'awaiting_approval'"
        ).fetchall()
        rows = []
        now = time.strftime("%Y-%m-%d %H:%M:%S")
        for i in range(pending):
            run_id, wf_id, category = waiting[i % len(waiting)]
            seq = 10 + i // len(waiting)
            target = f"/tmp/history-out/pending/{i}.csv"
            rows.append((run_id, wf_id, category, seq, "write_file", "file", target,
                         f"write {target}", f"+++ {target}\n+x\n", '{"content":"x"}', False,
                         "pending", f"pending-{i}", now, 0.0, 1))  # fmt: skip
        with con:
            con.executemany(
                'INSERT INTO "write" (run_id, workflow_id, category, seq, kind, effect, target, '
                "summary, preview, payload, customer_facing, status, idempotency_key, "
                "created_at, cost, attempt) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
    finally:
        con.close()
    os.replace(partial, path)
    return path


@dataclass
class WindowFigures:
    runs: int
    pending_writes: int
    ms: dict[str, float]

    def checks(self) -> list[tuple[str, float, str, bool]]:
        return [
            (name, self.ms[name], f"< {goal:g} ms", self.ms[name] < goal)
            for name, goal in WINDOW_GOALS_MS.items()
        ]


def window_table(f: WindowFigures) -> str:
    lines = [
        f"the window on {f.runs:,} runs and {f.pending_writes:,} more pending writes "
        "(1024x700, offscreen, no engine)",
        "",
    ]
    goals = {name: (target, ok) for name, _ms, target, ok in f.checks()}
    for name, ms in f.ms.items():
        target, ok = goals.get(name, ("", None))
        verdict = "" if ok is None else ("PASS" if ok else "FAIL")
        lines.append(f"{name:<42} {ms:>9.1f} ms  {target:>10}  {verdict}")
    return "\n".join(lines)


def window_main(cache: Path, runs: int, pending: int, as_json: bool) -> int:
    from bench.trigger import inmemory_keyring
    from bench.window import open_on

    path = with_pending(cache, runs, pending, as_json)
    migrate_in_place(path)
    with inmemory_keyring(), tempfile.TemporaryDirectory(prefix="bench-window-") as t:
        os.environ["XDG_CONFIG_HOME"] = str(Path(t) / "config")
        os.environ["XDG_DATA_HOME"] = str(Path(t) / "data")
        ms = open_on(f"sqlite:///{path}")
    figures = WindowFigures(runs, pending, ms)
    return report(figures, window_table, as_json, ("figure", "ms", "target", "pass"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.history", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--sizes", type=_sizes, default=list(SIZES), help="run counts (10000,100000,1000000)"
    )
    parser.add_argument(
        "--cache", type=Path, help="keep the built files here (default: a temporary folder)"
    )
    parser.add_argument("--repeat", type=int, default=7, help="timed calls per read (median)")
    parser.add_argument("--stats", type=_stats, default=list(STATS), help="none,analyze,optimize")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--window", action="store_true", help="time the window opening on the largest size"
    )
    parser.add_argument(
        "--pending", type=int, default=100_000, help="more pending writes for --window"
    )
    args = parser.parse_args(argv)
    if args.window:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        os.environ.setdefault(
            "PYTHON_KEYRING_BACKEND", "tests.support.inmemory_keyring.InMemoryKeyring"
        )
        cache = args.cache or Path(tempfile.mkdtemp(prefix="bench-history-"))
        cache.mkdir(parents=True, exist_ok=True)
        return window_main(cache, max(args.sizes), args.pending, args.json)
    if args.repeat < 1:
        parser.error("--repeat: give 1 or more")
    if args.cache is not None and args.cache.exists() and not args.cache.is_dir():
        parser.error(f"--cache: {args.cache} is not a folder")

    os.environ.setdefault(
        "PYTHON_KEYRING_BACKEND", "tests.support.inmemory_keyring.InMemoryKeyring"
    )
    from bench.trigger import inmemory_keyring
    from tests.support.history_queries import hot_queries

    own_cache = args.cache is None
    cache = Path(tempfile.mkdtemp(prefix="bench-history-")) if own_cache else args.cache
    cache.mkdir(parents=True, exist_ok=True)
    before = load_average()
    try:
        with inmemory_keyring():
            sizes = [measure(cache, n, args.stats, args.repeat, args.json) for n in args.sizes]
    finally:
        if own_cache:
            shutil.rmtree(cache, ignore_errors=True)
    figures = Figures(
        sizes=sizes,
        repeat=args.repeat,
        stats=args.stats,
        queries=list(hot_queries("p", "s", 1)),
        load_average=before,
        load_average_after=load_average(),
    )
    return report(figures, table, args.json, ("query", "runs", "stats", "ms", "target", "pass"))


if __name__ == "__main__":
    sys.exit(main())
