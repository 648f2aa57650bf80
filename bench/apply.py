"""Benchmark of applying approved writes (issue 16, item 2).

    python -m bench.apply [--sizes 100,1000,10000] [--latency-writes 200] [--appliers N]
                          [--floor-writes 1000] [--quick] [--json]

Setup (not measured): a temporary SQLite database, one staging workflow and one run
of N pending write_file writes (each to its own file in a temporary folder). Then the
engine runs (Engine(watch=False), its appliers) and every write is approved at once
through the console (`Console.approve`, the inbox's call; the console's event wakes
the engine as in the window). Measured from the approval's commit to each write's
"write.finished" event (published after its outcome is recorded): the p50/p95 of that
latency for --latency-writes writes, and for each size the time until the last write
is applied, the writes applied per second and the milliseconds per write. The growth
check: the time per write at the largest size is at most 1.5 times the one at the
smallest size of 1,000 or more (linear growth; O(N^2) would be 10x at 10x the writes).
Each run's writes are checked: every one `applied` exactly once, every file holding
its content.

The floor, measured just before each row (so a row and its floor share the machine's
load): --floor-writes writes done one at a time the plainest safe way, each an atomic
write (temporary file, write, fsync, rename, fsync of the folder) between two commits
of a one-row UPDATE in a SQLite file with the engine's pragmas (WAL, synchronous
NORMAL): what the issue calls "an atomic write with fsync plus two commits". Each row
gives its ratio to that floor and the 1-minute load average before and after it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import report
from sophmate_desktop.console import Console
from sophmate_desktop.domain.enums import EffectKind
from sophmate_desktop.domain.events import Event
from sophmate_desktop.engine.actions.base import PlannedWrite
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.store import workflows as store_workflows
from sophmate_desktop.store.database import open_database, write_transaction
from sophmate_desktop.store.models import AuditEvent, Workflow, Write
from sophmate_desktop.store.transitions import intake

GOAL_RATE = 1000.0  # file writes applied per second
GOAL_P95_MS = 300.0  # approval -> applied, 200 writes
GOAL_GROWTH = 1.5  # time per write, largest size over 1,000 writes
HOST = f"{socket.gethostname()}:{os.getpid()}"
WORKFLOW = """\
name: bulk-apply
category: files
owner: ops-lead
description: Writes many files.
trigger: {{manual: true}}
input: {{read: none}}
output: {{paths: [{out}], staging_paths: [{out}]}}
steps:
  - action: write_file
    to: "{{{{ output.path }}}}/x.txt"
    content: "x"
approval: {{mode: always}}
rollback: Delete the files.
"""


@dataclass
class Size:
    writes: int
    seconds: float
    rate: float  # writes applied per second
    ms_per_write: float
    p50_ms: float
    p95_ms: float
    correct: bool  # every write applied exactly once, every file right
    floor_rate: float = 0.0  # the floor's writes/s, measured just before this row
    load_before: float = 0.0  # 1-minute load average
    load_after: float = 0.0

    @property
    def vs_floor(self) -> float:
        return self.rate / self.floor_rate if self.floor_rate else 0.0


@dataclass
class Figures:
    appliers: int
    floor_writes: int
    latency: Size
    sizes: list[Size] = field(default_factory=list)

    def growth(self) -> float:
        base = [s for s in self.sizes if s.writes >= 1000] or self.sizes
        first, last = base[0], self.sizes[-1]
        return (last.seconds / last.writes) / (first.seconds / first.writes)

    def checks(self) -> list[tuple[str, float, str, str, bool]]:
        largest = self.sizes[-1]
        return [
            (
                f"file writes applied/s ({largest.writes:,} writes; "
                f"{largest.vs_floor:.2f}x the floor's {largest.floor_rate:,.0f}/s)",
                largest.rate,
                "/s",
                f">= {GOAL_RATE:,.0f}",
                largest.rate >= GOAL_RATE,
            ),
            (
                f"approval -> applied p95 ({self.latency.writes} writes)",
                self.latency.p95_ms,
                "ms",
                f"< {GOAL_P95_MS:g}",
                self.latency.p95_ms < GOAL_P95_MS,
            ),
            (
                "time per write, largest size / 1,000 writes (linear growth)",
                self.growth(),
                "x",
                f"<= {GOAL_GROWTH:g}",
                self.growth() <= GOAL_GROWTH,
            ),
            (
                "every write applied exactly once, every file right",
                float(all(s.correct for s in [self.latency, *self.sizes])),
                "",
                "1",
                all(s.correct for s in [self.latency, *self.sizes]),
            ),
        ]


def _planned(out: Path, n: int) -> list[PlannedWrite]:
    planned = []
    for i in range(n):
        path = out / f"f{i:06}.txt"
        content = f"file {i}\n"
        sha = hashlib.sha256(content.encode()).hexdigest()
        payload = {"path": str(path), "content": content, "sha256": sha, "scope": [str(out)]}
        planned.append(PlannedWrite("write_file", EffectKind.FILE, str(path), "w", "+", payload))
    return planned


class Finished:
    def __init__(self, n: int) -> None:
        self.n = n
        self.at: dict[int, float] = {}
        self.done = threading.Event()

    def __call__(self, event: Event) -> None:
        if event.kind == "write.finished":
            self.at[event.data["write"]] = time.perf_counter()
            if len(self.at) >= self.n:
                self.done.set()


def _pending_run(db, out: Path, n: int) -> list[int]:
    Console(db, actor="lead").import_workflow(WORKFLOW.format(out=out))
    with write_transaction(db):  # arranged: a staged, enabled workflow
        Workflow.update(stage="staging", enabled=True).execute()
    offer = intake.Offer("bulk-apply", "manual", None, None, None, None)
    [(run_id, _)] = intake.record_offers(db, [offer], HOST)
    assert intake.claim_run(db, run_id, HOST)
    wf = store_workflows.load_workflow(Workflow.get(Workflow.name == "bulk-apply"))
    intake.store_plan(db, run_id, wf, _planned(out, n), 0, 0)
    return [w.id for w in Write.select(Write.id).where(Write.run == run_id).order_by(Write.seq)]


def _correct(ids: list[int], out: Path) -> bool:
    statuses = {s for (s,) in Write.select(Write.status).where(Write.id.in_(ids)).tuples()}
    applied = (
        AuditEvent.select()
        .where(AuditEvent.action == "write.applied", AuditEvent.subject.startswith("write "))
        .count()
    )
    files = all((out / f"f{i:06}.txt").read_text() == f"file {i}\n" for i in range(len(ids)))
    return statuses == {"applied"} and applied == len(ids) and files


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _commit(conn: sqlite3.Connection, write: int, status: str) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE w SET status = ? WHERE id = ?", (status, write))
    conn.execute("COMMIT")


def _atomic_write(folder: Path, i: int) -> None:
    temp = folder / f".f{i:06}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        os.write(fd, f"file {i}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, folder / f"f{i:06}.txt")
    _fsync_dir(folder)


def floor_rate(n: int) -> float:
    """Writes/s done one at a time: two commits and an atomic write with fsync each."""
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "floor.sqlite3", isolation_level=None)
        conn.execute("PRAGMA journal_mode=wal")
        conn.execute("PRAGMA synchronous=1")
        conn.execute("CREATE TABLE w (id INTEGER PRIMARY KEY, status TEXT)")
        rows = [(i,) for i in range(n)]
        conn.executemany("INSERT INTO w (id, status) VALUES (?, 'approved')", rows)
        out = Path(tmp) / "out"
        out.mkdir()
        start = time.perf_counter()
        for i in range(n):
            _commit(conn, i, "applying")
            _atomic_write(out, i)
            _commit(conn, i, "applied")
        seconds = time.perf_counter() - start
        conn.close()
    return n / seconds


def measure(n: int, appliers: int, floor_writes: int) -> Size:
    load_before = os.getloadavg()[0]
    floor = floor_rate(floor_writes) if floor_writes else 0.0
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        out = Path(tmp) / "out"
        out.mkdir()
        ids = _pending_run(db, out, n)
        engine = Engine(db, watch=False, appliers=appliers)
        finished = Finished(n)
        engine.events.subscribe(finished)
        engine.start()
        ana = Console(db, actor="ana")
        ana.events.subscribe(engine.wake)
        try:
            results = ana.approve(ids)
            approved = time.perf_counter()
            assert all(r.ok for r in results)
            finished.done.wait(max(60.0, n / 50))
            engine.wait_idle(60)
        finally:
            engine.stop()
        lat = sorted((t - approved) * 1000 for t in finished.at.values())
        seconds = (max(finished.at.values()) - approved) if lat else float("inf")
        with db.connection_context():
            correct = len(lat) == n and _correct(ids, out)
        db.close()
    p = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]) if lat else (lambda q: 0.0)
    rate = n / seconds
    print(f"{n:,} writes: {rate:,.0f}/s (floor {floor:,.0f}/s)", file=sys.stderr)
    return Size(
        n, seconds, rate, seconds * 1000 / n, p(0.50), p(0.95), correct,
        floor, load_before, os.getloadavg()[0],
    )  # fmt: skip


def table(f: Figures) -> str:
    lines = [
        f"apply benchmark: write_file writes approved through the console, applied by the "
        f"engine ({f.appliers} appliers), temporary SQLite",
        f"floor: {f.floor_writes:,} writes one at a time, each an atomic write with fsync "
        "(file and folder) between two commits, measured just before each row",
        "",
        f"{'writes':>8}  {'time s':>8}  {'writes/s':>9}  {'ms/write':>8}  {'p50 ms':>8}  "
        f"{'p95 ms':>8}  {'floor/s':>8}  {'x floor':>7}  {'load':>9}  ok",
    ]
    for s in [f.latency, *f.sizes]:
        lines.append(
            f"{s.writes:>8,}  {s.seconds:>8.3f}  {s.rate:>9,.0f}  {s.ms_per_write:>8.3f}  "
            f"{s.p50_ms:>8.1f}  {s.p95_ms:>8.1f}  {s.floor_rate:>8,.0f}  {s.vs_floor:>7.2f}  "
            f"{s.load_before:>4.1f}-{s.load_after:<4.1f}  {'yes' if s.correct else 'NO'}"
        )
    lines.append("")
    lines.append(f"{'goal':<64}  {'figure':>12}  {'target':>8}  met")
    for name, value, unit, target, ok in f.checks():
        met = "yes" if ok else "NO"
        lines.append(f"{name:<64}  {value:>10,.2f} {unit:<2}  {target:>8}  {met}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="writes per run, a list")
    parser.add_argument("--latency-writes", type=int, default=200)
    parser.add_argument("--appliers", type=int, default=2)
    parser.add_argument(
        "--floor-writes", type=int, default=1000, help="writes of the floor per row (0: none)"
    )
    parser.add_argument("--quick", action="store_true", help="sizes 100,1000,2000")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    try:
        sizes = [int(x) for x in ("100,1000,2000" if args.quick else args.sizes).split(",")]
    except ValueError:
        parser.error("--sizes takes whole numbers separated by commas")
    if min(sizes) < 1 or args.latency_writes < 1 or args.appliers < 1 or args.floor_writes < 0:
        parser.error("--sizes, --latency-writes and --appliers must be at least 1")
    floor = args.floor_writes
    latency = measure(args.latency_writes, args.appliers, floor)
    rows = [measure(n, args.appliers, floor) for n in sorted(sizes)]
    figures = Figures(args.appliers, floor, latency, rows)
    return report(figures, table, args.json, ("name", "value", "unit", "target", "pass"))


if __name__ == "__main__":
    sys.exit(main())
