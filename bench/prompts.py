"""Benchmark of prompt steps: a run over a CSV of N rows, each row one call of a
prompt step to the local OpenAI-compatible stand-in (tests/support/llm_server.py)
through the real `openai` client, its answer written by the next step.

    python -m bench.prompts [--rows N] [--trials N] [--server-delay-ms MS]
                            [--concurrency N] [--json]

Each trial records one run (a dry run with `dry_run_prompts: true`, so the prompts are
sent and the writes only planned) and times `Executor.execute_run` on this thread:
the input read, N prompts rendered and sent, N answers kept, N writes planned, and the
plan, the N calls and their N audit events recorded in one transaction. The stand-in
times itself per request (from the request read to the answer written); the overhead
per call is the run's time less the server's, divided by the calls: everything the
product and the client library add (rendering, HTTP, parsing, recording), measured with
the calls one at a time (the connection's `concurrency: 1`). The same runs are then
timed with `concurrency: N` (default 4), the calls of the step side by side: the
planning throughput. The stand-in answers at once by default (`--server-delay-ms`
makes it a slow model).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import keyring

from bench.common import report
from tests.support.inmemory_keyring import InMemoryKeyring
from tests.support.llm_server import llm_server

GOAL_ROWS = 100
GOAL_OVERHEAD_MS = 10.0  # per call, beside the server's own time
WORKFLOW = """\
name: bench-prompts
category: bench
owner: ops-lead
description: Prompt step benchmark.
trigger: {{manual: true}}
input: {{read: csv, max_bytes: 10000000}}
output: {{paths: [{out}], staging_paths: [{out}]}}
steps:
  - action: prompt
    connection: bench-llm
    for_each: rows
    system: "You draft short replies to suppliers."
    prompt: "Draft a reply to {{{{ row.supplier }}}} about invoice {{{{ row.number }}}}."
    max_tokens: 100
    as: reply
  - action: write_file
    for_each: rows
    to: "{{{{ output.path }}}}/{{{{ row.number }}}}.txt"
    content: "{{{{ steps.reply.text }}}}"
approval: {{mode: always}}
retry: {{limit: 0, backoff_s: 1}}
notify: {{on_failure: [tray]}}
pause: {{consecutive_failures: 3}}
rollback: Nothing to undo, a dry run writes nothing.
dry_run_prompts: true
plan_timeout_s: 600
"""


@dataclass
class Trial:
    plan_s: float
    server_s: float
    calls: int
    client_ms: float  # mean latency of a call as the client saw it


@dataclass
class Figures:
    rows: int
    trials: int
    server_delay_ms: float
    database: str
    median_plan_s: float  # calls one at a time
    rows_per_s: float
    server_ms_per_call: float
    client_ms_per_call: float
    overhead_ms_per_call: float
    client_overhead_ms_per_call: float
    concurrency: int
    concurrent_plan_s: float  # the calls `concurrency` at a time
    concurrent_rows_per_s: float
    runs: list[Trial] = field(default_factory=list)
    concurrent_runs: list[Trial] = field(default_factory=list)

    def checks(self) -> list[tuple[str, str, str, bool]]:
        return [
            (
                "overhead per call beside the server's time",
                f"{self.overhead_ms_per_call:.2f} ms",
                f"< {GOAL_OVERHEAD_MS:g} ms",
                self.overhead_ms_per_call < GOAL_OVERHEAD_MS,
            )
        ]


def _csv(path: Path, rows: int) -> Path:
    lines = ["number,supplier,email"]
    lines += [f"INV-{n:05},Supplier {n},s{n}@example.test" for n in range(1, rows + 1)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _one(engine, server, csv: Path, rows: int) -> Trial:
    from sophmate_desktop.store.models import PromptCall, Run
    from sophmate_desktop.store.transitions.intake import Offer, record_offers

    ((run_id, _),) = record_offers(
        engine.db, [Offer("bench-prompts", "manual", csv, mode="dry_run")], engine.host
    )
    server.received.clear()
    start = time.perf_counter()
    engine.executor.execute_run(run_id)
    plan_s = time.perf_counter() - start
    run = Run.get_by_id(run_id)
    if run.status != "succeeded":
        raise SystemExit(f"run {run_id} {run.status}: {run.error}")
    calls = list(PromptCall.select().where(PromptCall.run_id == run_id))
    if len(calls) != rows or len(server.received) != rows:
        raise SystemExit(f"expected {rows} calls, recorded {len(calls)}")
    return Trial(
        plan_s=plan_s,
        server_s=sum(r.server_s for r in server.received),
        calls=len(calls),
        client_ms=statistics.fmean(c.latency_ms for c in calls),
    )


def _median(runs: list[Trial]) -> Trial:
    return sorted(runs, key=lambda t: t.plan_s)[len(runs) // 2]


def _connect(console, base_url: str, concurrency: int) -> None:
    settings = {"provider": "openai", "base_url": base_url, "model": "gpt-x"}
    settings |= {"price_in": 2.5, "price_out": 10.0, "timeout_s": 30, "concurrency": concurrency}
    console.save_connection("bench-llm", "llm", settings, settings, secret_ref="bench-key")


def measure(rows: int, trials: int, delay_ms: float, root: Path, concurrency: int) -> Figures:
    keyring.set_keyring(InMemoryKeyring())
    from sophmate_desktop.console import Console
    from sophmate_desktop.engine.service import Engine
    from sophmate_desktop.store.database import open_database

    (root / "out").mkdir()
    db = open_database(f"sqlite:///{root / 'prompts.sqlite3'}")
    csv = _csv(root / "invoices.csv", rows)
    with llm_server(api_key="sk-bench", delay_s=delay_ms / 1000) as server:
        console = Console(db, actor="bench")
        console.set_secret("bench-key", "sk-bench")
        _connect(console, server.base_url, 1)
        console.import_workflow(WORKFLOW.format(out=root / "out"))
        engine = Engine(db, workers=1, watch=False)
        warm = _csv(root / "warm.csv", 5)
        _one(engine, server, warm, 5)  # warm: the client imported, a connection open
        runs, side_by_side = [], []
        for n in range(trials):
            runs.append(_one(engine, server, csv, rows))
            print(f"trial {n + 1}, one at a time: {runs[-1].plan_s:.3f} s", file=sys.stderr)
        _connect(console, server.base_url, concurrency)  # not a provider change
        for n in range(trials):
            side_by_side.append(_one(engine, server, csv, rows))
            print(f"trial {n + 1}, {concurrency} at a time: {side_by_side[-1].plan_s:.3f} s",
                  file=sys.stderr)  # fmt: skip
    db.close()
    median = _median(runs)
    concurrent = _median(side_by_side)
    server_ms = median.server_s * 1000 / rows
    return Figures(
        rows=rows,
        trials=trials,
        server_delay_ms=delay_ms,
        database="SQLite (temporary file)",
        median_plan_s=median.plan_s,
        rows_per_s=rows / median.plan_s,
        server_ms_per_call=server_ms,
        client_ms_per_call=median.client_ms,
        overhead_ms_per_call=(median.plan_s - median.server_s) * 1000 / rows,
        client_overhead_ms_per_call=median.client_ms - server_ms,
        concurrency=concurrency,
        concurrent_plan_s=concurrent.plan_s,
        concurrent_rows_per_s=rows / concurrent.plan_s,
        runs=runs,
        concurrent_runs=side_by_side,
    )


def table(f: Figures) -> str:
    lines = [
        f"prompt steps: {f.rows} rows, one call each, {f.trials} trials, {f.database}, "
        f"server delay {f.server_delay_ms:g} ms",
        f"  planning, one call at a time: {f.median_plan_s:.3f} s (median), "
        f"{f.rows_per_s:,.0f} rows/s",
        f"  planning, {f.concurrency} calls at a time: {f.concurrent_plan_s:.3f} s (median), "
        f"{f.concurrent_rows_per_s:,.0f} rows/s",
        f"  per call (one at a time): server {f.server_ms_per_call:.2f} ms, client-side call "
        f"{f.client_ms_per_call:.2f} ms (client library + HTTP: "
        f"{f.client_overhead_ms_per_call:.2f} ms), all overhead {f.overhead_ms_per_call:.2f} ms",
    ]
    for goal, measured, target, ok in f.checks():
        lines.append(f"  {goal}: {measured} (goal {target}) {'PASS' if ok else 'FAIL'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=GOAL_ROWS, help="CSV rows, one call each (100)")
    p.add_argument("--trials", type=int, default=5, help="runs to time (5)")
    p.add_argument("--server-delay-ms", type=float, default=0.0, help="the stand-in's delay")
    p.add_argument("--concurrency", type=int, default=4, help="calls side by side (4)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        f = measure(a.rows, a.trials, a.server_delay_ms, Path(tmp), a.concurrency)
    return report(f, table, a.json, ("goal", "measured", "target", "pass"))


if __name__ == "__main__":
    sys.exit(main())
