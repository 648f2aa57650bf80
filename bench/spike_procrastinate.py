"""Spike (issue 13, item 7): dispatch through procrastinate 3.10 against our own claims,
in the same run, on one scratch PostgreSQL database.

    .venv/bin/pip install procrastinate==3.10.0   # not a dependency of the product
    python -m bench.spike_procrastinate --db postgresql://USER:PASSWORD@HOST/SCRATCH_DB
        [--jobs N] [--json]

THE DATABASE IS EMPTIED (its public schema is dropped) before each part.

1. procrastinate: N jobs of a no-op sync task deferred on one queue (in transactions of
   100, through `procrastinate_defer_jobs_v1`, as an approval would defer its writes'
   jobs), then one worker (`run_worker_async` in this process) at concurrency 1, 2 and
   8 does them: jobs done per second and the CPU of this process per job. The job does
   nothing: this is the dispatch alone, the floor of a job per run or per write.
2. Ours: the engine (2 workers) on the same database completes N dry runs of a
   watched-folder workflow (claim, plan, store, audit each): runs/s and CPU per run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.burst import Counter, write_files
from bench.common import report
from bench.trigger import inmemory_keyring, workflow_yaml
from sophmate_desktop.console import Console
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.store.database import open_database

QUEUE = "engine-A"
DEFER_BATCH = 100


@dataclass
class WorkerFigure:
    concurrency: int
    jobs_per_s: float
    cpu_us_per_job: float


@dataclass
class Figures:
    jobs: int
    defer_us_per_job: float = 0.0
    procrastinate: list[WorkerFigure] = field(default_factory=list)
    ours_runs_per_s: float = 0.0
    ours_cpu_us_per_run: float = 0.0

    def checks(self) -> list[tuple[str, str, str, bool]]:
        best = max(w.jobs_per_s for w in self.procrastinate)
        return [
            (
                "no-op jobs/s against our dry runs/s",
                f"{best:,.0f} vs {self.ours_runs_per_s:,.0f}",
                "jobs/s >= runs/s",
                best >= self.ours_runs_per_s,
            )
        ]


def _empty(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def _defer(url: str, jobs: int) -> float:
    """Seconds to defer `jobs` jobs in transactions of DEFER_BATCH on one connection."""
    statement = (
        "SELECT procrastinate_defer_jobs_v1(ARRAY("
        "SELECT ROW(%s, 'noop', 0, NULL, NULL, a::jsonb, NOW())::procrastinate_job_to_defer_v1"
        " FROM unnest(%s::text[]) AS a))"
    )
    with psycopg.connect(url) as conn:
        t0 = time.perf_counter()
        for start in range(0, jobs, DEFER_BATCH):
            args = [json.dumps({"i": i}) for i in range(start, min(jobs, start + DEFER_BATCH))]
            with conn.transaction():
                conn.execute(statement, (QUEUE, args))
        return time.perf_counter() - t0


def procrastinate_part(url: str, jobs: int, concurrency: int) -> tuple[float, WorkerFigure]:
    import procrastinate  # the spike's only user: not a dependency of the product

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))
    done = [0, 0.0]

    @app.task(name="noop", queue=QUEUE)
    def noop(i: int) -> None:
        done[0] += 1
        done[1] = time.perf_counter()

    _empty(url)
    with app.open():
        app.schema_manager.apply_schema()
    defer_s = _defer(url, jobs)

    async def work() -> tuple[float, float]:
        async with app.open_async():
            cpu0, t0 = time.process_time(), time.perf_counter()
            worker = asyncio.create_task(
                app.run_worker_async(
                    queues=[QUEUE], concurrency=concurrency, install_signal_handlers=False
                )
            )
            while done[0] < jobs:
                await asyncio.sleep(0.05)
            cpu = time.process_time() - cpu0
            worker.cancel()
            try:
                await worker
            except asyncio.CancelledError:
                pass
            return done[1] - t0, cpu

    wall, cpu = asyncio.run(work())
    return defer_s, WorkerFigure(concurrency, jobs / wall, cpu / jobs * 1e6)


def ours_part(url: str, runs: int) -> tuple[float, float]:
    _empty(url)
    with tempfile.TemporaryDirectory() as tmp:
        folder, out = Path(tmp) / "in", Path(tmp) / "out"
        folder.mkdir()
        out.mkdir()
        db = open_database(url)
        engine = Engine(db, workers=2)
        try:
            console = Console(db)
            console.import_workflow(workflow_yaml("spike", folder, out))
            console.enable_workflow("spike")
            counter = Counter()
            engine.events.subscribe(counter)
            engine.start()
            engine.wait_idle(timeout=60)
            cpu0 = time.process_time()
            t0, _ = write_files(folder, runs)
            with counter.cond:
                counter.target = runs
                counter.cond.wait_for(lambda: counter.succeeded >= runs, timeout=max(60, runs))
                last_ns, succeeded = counter.succeeded_ns, counter.succeeded
            cpu = time.process_time() - cpu0
        finally:
            engine.stop()
            db.close()
    if succeeded < runs:
        raise RuntimeError(f"only {succeeded} of {runs} runs succeeded")
    return runs / ((last_ns - t0) / 1e9), cpu / runs * 1e6


def table(f: Figures) -> str:
    lines = [
        f"procrastinate 3.10, {f.jobs:,} no-op jobs on one queue",
        f"  defer in transactions of {DEFER_BATCH}: {f.defer_us_per_job:,.0f} us per job",
    ]
    for w in f.procrastinate:
        lines.append(
            f"  worker concurrency {w.concurrency}: {w.jobs_per_s:,.0f} jobs/s, "
            f"{w.cpu_us_per_job:,.0f} us CPU per job"
        )
    lines.append(
        f"ours, engine with 2 workers, {f.jobs:,} dry runs: {f.ours_runs_per_s:,.0f} runs/s, "
        f"{f.ours_cpu_us_per_run:,.0f} us CPU per run"
    )
    lines.append("")
    lines += [
        f"{name}: {measured} ({target}) {'PASS' if ok else 'FAIL'}"
        for name, measured, target, ok in f.checks()
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--db",
        default=os.environ.get("SOPHMATE_TEST_PG_URL"),
        help="a scratch PostgreSQL database (emptied)",
    )
    p.add_argument("--jobs", type=int, default=2000, help="jobs and runs per part (2000)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = p.parse_args(argv)
    if not args.db or not args.db.startswith("postgres"):
        print("--db must name a scratch PostgreSQL database", file=sys.stderr)
        return 2
    figures = Figures(jobs=args.jobs)
    for concurrency in (1, 2, 8):
        defer_s, worker = procrastinate_part(args.db, args.jobs, concurrency)
        figures.defer_us_per_job = defer_s / args.jobs * 1e6
        figures.procrastinate.append(worker)
    with inmemory_keyring():
        figures.ours_runs_per_s, figures.ours_cpu_us_per_run = ours_part(args.db, args.jobs)
    return report(figures, table, args.json, ("goal", "measured", "target", "pass"))


if __name__ == "__main__":
    sys.exit(main())
