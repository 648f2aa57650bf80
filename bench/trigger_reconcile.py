"""`python -m bench.trigger --reconcile N`: start-up reconciliation of N files already
in a watched folder, in seconds from engine start.

Two cases, each on a fresh database: "recorded" with the workflow's category paused
(every run is recorded held, none executes: the intake alone), and "completed" with
the dry-run workflow running on 2 workers (until every run has finished).
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sophmate_desktop.console import Console
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import Run

GOAL_S = {50_000: 30.0}  # issue 16: 50,000 existing files < 30 s
CATEGORY = "bench"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _make_files(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"old-{i:06d}.txt").write_bytes(b"x")


@dataclass
class ReconcileFigures:
    files: int
    seconds: dict[str, float] = field(default_factory=dict)

    def checks(self) -> list[tuple[str, float, str, bool]]:
        goal = GOAL_S.get(self.files, 30.0 * self.files / 50_000)
        return [
            (f"reconcile {self.files:,}, runs {case}", s, f"< {goal:g} s", s < goal)
            for case, s in self.seconds.items()
        ]


def _case(tmp: Path, files: int, case: str, workflow_yaml) -> dict[str, float]:
    root = tmp / case
    folder, out = root / "in", root / "out"
    out.mkdir(parents=True)
    _make_files(folder, files)
    db = open_database(f"sqlite:///{root / 'db.sqlite3'}")
    engine = None
    try:
        console = Console(db, actor="bench")
        console.import_workflow(workflow_yaml("reconcile-bench", folder, out, category=CATEGORY))
        console.enable_workflow("reconcile-bench")
        if case == "recorded":
            console.pause_category(CATEGORY, "bench: the intake alone")
        engine = Engine(db, workers=2)
        t0 = time.perf_counter()
        engine.start()
        done = ("held",) if case == "recorded" else ("succeeded", "failed")
        out: dict[str, float] = {}
        while Run.select().where(Run.status.in_(done)).count() < files:
            key = "recorded while executing"
            if case != "recorded" and key not in out and Run.select().count() >= files:
                out[key] = time.perf_counter() - t0
            time.sleep(0.2)
            if time.perf_counter() - t0 > 1800:
                raise TimeoutError(f"{case}: not done in 30 min")
        out[case] = time.perf_counter() - t0
        log(f"  {case}: {files:,} files in {out[case]:.1f} s")
        return out
    finally:
        if engine is not None:
            engine.stop()
        db.close()


def run_reconcile(files: int, workflow_yaml) -> ReconcileFigures:
    figures = ReconcileFigures(files)
    with tempfile.TemporaryDirectory(prefix="sophmate-bench-") as t:
        for case in ("recorded", "completed"):
            log(f"reconcile: {files:,} existing files, runs {case}")
            figures.seconds.update(_case(Path(t), files, case, workflow_yaml))
    return figures


def reconcile_table(f: ReconcileFigures) -> str:
    lines = [f"start-up reconciliation of {f.files:,} files already in the folder", ""]
    lines.append(f"{'goal':<36} {'measured':>12} {'target':>12}  result")
    for name, value, target, ok in f.checks():
        lines.append(f"{name:<36} {value:>10.1f} s {target:>12}  {'PASS' if ok else 'FAIL'}")
    return "\n".join(lines)
