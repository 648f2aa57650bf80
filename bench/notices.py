"""Benchmark of a failure notice reaching people: from a failing write's last attempt
to the receipt of the notice by a JSON webhook (apprise's json://), while runs are in
flight.

    python -m bench.notices [--trials N] [--inflight N] [--quick] [--json]

Setup: a temporary SQLite database and an engine with one applier per command.
--inflight manual staging runs of a workflow whose one step sleeps 120 s are
approved: their commands keep that many runs applying for the whole bench. Each
trial: a manual staging run of a second workflow, whose one step (run_command, no
retries) writes time.time() to a file and exits 3, is approved; the clock runs from
that stamp (the failing command's last moment) until a local HTTP server has
received the "run N failed" notice (time.time() on arrival). The path in between: the
command's exit, the applier's finish_apply and record_final_failure (which queues
the delivery in the same transaction), the dispatcher woken by the engine's
run.failed event, apprise's POST. Goal: p95 under 1 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import report
from bench.trigger import inmemory_keyring, log, summary
from sophmate_desktop.console import Console
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import Write
from tests.support.notices import Webhook

GOAL_P95_MS = 1000.0
CATEGORY = "notice-bench"

WORKFLOW = """\
name: {name}
category: {category}
owner: bench-owner
description: A command for the notices bench.
trigger: {{manual: true}}
input: {{read: none}}
output: {{paths: ["{out}"], staging_paths: ["{out}"]}}
steps:
  - action: run_command
    argv: {argv}
    timeout_s: 300
approval: {{mode: always}}
retry: {{limit: 0, backoff_s: 1}}
notify: {{on_failure: {targets}}}
pause: {{consecutive_failures: 100}}
rollback: Nothing to undo.
"""


@dataclass
class Figures:
    trials: int
    inflight: int
    latency_ms: dict[str, float] = field(default_factory=dict)
    delivered: int = 0

    def checks(self) -> list[tuple[str, str, str, bool]]:
        p95 = self.latency_ms.get("p95", float("inf"))
        return [
            (
                "failure notice at the webhook, p95",
                f"{p95:.0f} ms",
                f"< {GOAL_P95_MS:.0f} ms",
                p95 < GOAL_P95_MS,
            ),
            (
                "every notice delivered",
                f"{self.delivered}/{self.trials}",
                f"{self.trials}/{self.trials}",
                self.delivered == self.trials,
            ),
        ]


def _workflow(name: str, out: Path, code: str, targets: list[str]) -> str:
    return WORKFLOW.format(
        name=name,
        category=CATEGORY,
        out=out,
        argv=json.dumps([sys.executable, "-c", code]),
        targets=json.dumps(["tray", *targets]),
    )


class Bench:
    def __init__(self, root: Path, inflight: int, hook: Webhook) -> None:
        self.root = root
        self.inflight = inflight
        self.hook = hook
        self.stamps = root / "stamps.txt"
        self.db = open_database(f"sqlite:///{root / 'db.sqlite3'}")
        self.console = Console(self.db, actor="bench")
        out = root / "out"
        out.mkdir()
        sleep = "import time; time.sleep(120)"
        stamp = f"open({str(self.stamps)!r}, 'a').write(repr(time.time()) + '\\n')"
        fail = f"import sys, time; {stamp}; sys.exit(3)"
        self.console.import_workflow(_workflow("sleeper", out, sleep, []))
        self.console.import_workflow(_workflow("failer", out, fail, [hook.url("notices")]))
        self.console.enable_workflow("sleeper")
        self.console.enable_workflow("failer")
        self.engine = Engine(self.db, workers=2, appliers=inflight + 1)
        self.console.events.subscribe(self.engine.wake)
        self.engine.start()

    def close(self) -> None:
        self.engine.stop(30)
        self.db.close()

    def _approve_run(self, name: str) -> int:
        run_id = self.engine.run_now(name, mode="staging", actor="bench")
        status = self.engine.wait_for_run(run_id)
        if status != "awaiting_approval":
            raise RuntimeError(f"run {run_id} is {status}, expected awaiting_approval")
        self.console.approve([w.id for w in Write.select(Write.id).where(Write.run == run_id)])
        return run_id

    def start_inflight(self) -> None:
        for _ in range(self.inflight):
            self._approve_run("sleeper")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            busy = [i for i in self.engine.inflight.snapshot() if i.kind == "write"]
            if len(busy) >= self.inflight:
                return
            time.sleep(0.01)
        raise TimeoutError(f"{self.inflight} runs did not start applying")

    def trial(self, n: int) -> float | None:
        run_id = self._approve_run("failer")
        title = f"failer: run {run_id} failed"
        deadline = time.monotonic() + 30
        with self.hook.arrived:
            self.hook.arrived.wait_for(
                lambda: any(m.get("title") == title for m in self.hook.received),
                max(0.0, deadline - time.monotonic()),
            )
            arrivals = [
                (m, t)
                for m, t in zip(self.hook.received, self.hook.arrived_wall, strict=True)
                if m.get("title") == title
            ]
        if not arrivals:
            log(f"trial {n}: no notice for run {run_id} within 30 s")
            return None
        stamp = float(self.stamps.read_text().split()[n])
        return (arrivals[0][1] - stamp) * 1000


def run(trials: int, inflight: int) -> Figures:
    figures = Figures(trials=trials, inflight=inflight)
    hook = Webhook().start()
    latencies = []
    with tempfile.TemporaryDirectory() as tmp, inmemory_keyring():
        bench = Bench(Path(tmp), inflight, hook)
        try:
            log(f"starting {inflight} runs that stay in flight")
            bench.start_inflight()
            for n in range(trials):
                ms = bench.trial(n)
                if ms is not None:
                    latencies.append(ms)
                    log(f"trial {n + 1}/{trials}: {ms:.0f} ms")
        finally:
            bench.close()
            hook.stop()
    figures.delivered = len(latencies)
    if latencies:
        figures.latency_ms = summary(latencies)
    return figures


def table(f: Figures) -> str:
    lines = [
        f"bench.notices: {f.trials} failure notices while {f.inflight} runs are in flight",
        "latency from the failing command's last moment to the webhook's receipt (ms):",
        "  " + "  ".join(f"{k} {v:.0f}" for k, v in f.latency_ms.items()),
        "",
    ]
    for name, value, target, ok in f.checks():
        lines.append(f"{'PASS' if ok else 'FAIL'}  {name}: {value} (goal {target})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--trials", type=int, default=20, help="failure notices to time (20)")
    p.add_argument("--inflight", type=int, default=50, help="runs kept in flight (50)")
    p.add_argument("--quick", action="store_true", help="5 trials, 5 runs in flight")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a = p.parse_args(argv)
    if a.quick:
        a.trials, a.inflight = 5, 5
    f = run(a.trials, a.inflight)
    return report(f, table, a.json, ("goal", "measured", "target", "pass"))


if __name__ == "__main__":
    sys.exit(main())
