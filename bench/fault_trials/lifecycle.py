"""Lifecycle faults: a runaway template under pause (runs end cancelled; p99 ms from
the pause to the run's end, goal <= 100 ms in process)."""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench.fault_trials import FaultResult, Trial
from bench.trigger import inmemory_keyring
from sophmate_desktop.console import Console
from sophmate_desktop.domain.events import Event
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import Run

GOAL_MS = 100.0
WORKFLOW = """\
name: runaway
category: lifecycle
owner: bench
description: A template that never ends.
trigger: {manual: true}
input: {read: none}
output: {paths: ["%s"], staging_paths: ["%s"]}
steps:
  - action: write_file
    to: "{{ output.path }}/x.txt"
    content: "{%% for a in range(100000) %%}{%% for b in range(100000) %%}{%% if a < 0 %%}\
{{ a }}{%% endif %%}{%% endfor %%}{%% endfor %%}"
approval: {mode: always}
retry: {limit: 0, backoff_s: 0}
notify: {on_failure: [tray]}
pause: {consecutive_failures: 100}
rollback: Nothing.
"""


def runaway_under_pause(trials: int) -> FaultResult:
    held = unexplained = 0
    times: list[float] = []
    with inmemory_keyring(), tempfile.TemporaryDirectory(prefix="sm-life-") as t:
        root = Path(t)
        db = open_database(f"sqlite:///{root / 'db.sqlite3'}")
        console = Console(db, actor="bench")
        console.import_workflow(WORKFLOW % (root, root))
        console.enable_workflow("runaway")
        engine = Engine(db, workers=2, watch=False, tick_s=0.05)
        console.events.subscribe(engine.wake)
        ended: dict[int, float] = {}
        cond = threading.Condition()

        def on_event(event: Event) -> None:
            if event.kind == "run.cancelled":
                with cond:
                    ended[event.data["run"]] = time.perf_counter()
                    cond.notify_all()

        engine.events.subscribe(on_event)
        engine.start()
        try:
            for _ in range(trials):
                runs = [engine.run_now("runaway") for _ in range(2)]
                deadline = time.monotonic() + 10
                # both in flight and one rendering: a worker may take both in one batch
                while time.monotonic() < deadline and not (
                    engine.executor.guard.rendering() >= 1
                    and all(engine.inflight.get("run", r) is not None for r in runs)
                ):
                    time.sleep(0.01)
                console.pause_category("lifecycle", "bench")
                t0 = time.perf_counter()
                with cond:
                    cond.wait_for(lambda runs=runs: all(r in ended for r in runs), 10)
                for r in runs:
                    if Run.get_by_id(r).status == "cancelled" and r in ended:
                        held += 1
                        times.append((ended[r] - t0) * 1000)
                    else:
                        unexplained += 1
                console.resume_category("lifecycle", "bench done", held="discard")
        finally:
            engine.stop()
            db.close()
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))] if times else float("nan")
    late = sum(1 for x in times if x > GOAL_MS)
    p50 = statistics.median(times) if times else float("nan")
    detail = (
        f"p99 {p99:.1f} ms from the pause to cancelled (goal <= {GOAL_MS:g} ms), p50 "
        f"{p50:.1f} ms, {late} of {len(times)} over the goal"
    )
    return FaultResult(
        trials,
        held,
        unexplained=unexplained + (late if p99 > GOAL_MS else 0),
        detail=detail,
        extra={"p99_ms": p99, "p50_ms": p50, "ms": [round(x, 1) for x in times]},
    )


TRIALS = [Trial("a runaway template under pause", 20, runaway_under_pause, 3)]
