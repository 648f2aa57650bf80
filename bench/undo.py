"""Benchmark of undo planning (issue 11, item 2).

    python -m bench.undo [--writes N] [--json]

Setup (not measured): a temporary SQLite database with one staging workflow and one
run of N write_file writes, approved and applied with the real write_file action
(half over existing files, whose previous bytes go to the undo store; half creating
new files). Measured: console.undo_run on that run (read the applied writes, check
every target's sha256, build the reverse diffs, record the new run, its N pending
undo writes and their audit events in one transaction). Then, not timed: the undo
writes approved and applied with undo_file, and every file compared with its
sha256 from before the run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import report
from sophmate_desktop.console import Console
from sophmate_desktop.domain.enums import EffectKind
from sophmate_desktop.engine.actions import apply_write
from sophmate_desktop.engine.actions.base import ApplyContext, PlannedWrite
from sophmate_desktop.store import workflows as store_workflows
from sophmate_desktop.store.database import open_database, write_transaction
from sophmate_desktop.store.models import Workflow, Write
from sophmate_desktop.store.transitions import intake, outcomes
from sophmate_desktop.store.undo_blobs import undo_dir_of

GOAL_S = 1.0
HOST = f"{socket.gethostname()}:{os.getpid()}"
WORKFLOW = """\
name: bulk-files
category: finance
owner: ops-lead
description: Writes many files.
trigger: {{manual: true}}
input: {{read: text, max_bytes: 100000}}
output: {{paths: [{out}], staging_paths: [{out}]}}
steps:
  - action: write_file
    to: "{{{{ output.path }}}}/x.txt"
    content: "x"
approval: {{mode: always}}
rollback: Put the files back from the backup.
"""


@dataclass
class Figures:
    writes: int
    setup_s: float
    plan_s: float
    undo_writes: int
    apply_s: float
    restored: bool

    def checks(self) -> list[tuple[str, float, str, str, bool]]:
        return [
            (
                f"undo of a {self.writes:,}-write run planned",
                self.plan_s,
                "s",
                f"< {GOAL_S:g} s",
                self.plan_s < GOAL_S and self.undo_writes == self.writes,
            ),
            ("every byte restored (sha256 equal)", float(self.restored), "", "1", self.restored),
        ]


def _planned(out: Path, n: int) -> list[PlannedWrite]:
    planned = []
    for i in range(n):
        path = out / f"f{i:05}.txt"
        content = f"line one of {i}\nline two, changed by the run\n"
        sha = hashlib.sha256(content.encode()).hexdigest()
        payload = {"path": str(path), "content": content, "sha256": sha, "scope": [str(out)]}
        planned.append(PlannedWrite("write_file", EffectKind.FILE, str(path), "w", "+", payload))
    return planned


def _state(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())}


def _apply_all(db, ids: list[int]) -> None:
    for wid in ids:
        write, why = outcomes.begin_apply(db, wid, HOST)
        assert write is not None, why
        ctx = ApplyContext(write.idempotency_key, lambda n: "", {}, undo_dir=undo_dir_of(db))
        result = apply_write(write.kind, write.payload, ctx)
        outcomes.finish_apply(db, wid, undo=result.undo, bytes_written=result.bytes_written)


def _applied_run(db, out: Path, n: int) -> int:
    Console(db, actor="lead").import_workflow(WORKFLOW.format(out=out))
    with write_transaction(db):  # arranged: a staged, enabled workflow
        Workflow.update(stage="staging", enabled=True).execute()
    offer = intake.Offer("bulk-files", "manual", None, None, None, None)
    [(run_id, _)] = intake.record_offers(db, [offer], HOST)
    assert intake.claim_run(db, run_id, HOST)
    wf = store_workflows.load_workflow(Workflow.get(Workflow.name == "bulk-files"))
    intake.store_plan(db, run_id, wf, _planned(out, n), 0, 0)
    ids = [w.id for w in Write.select(Write.id).where(Write.run == run_id).order_by(Write.seq)]
    assert all(r.ok for r in Console(db, actor="ana").approve(ids))
    _apply_all(db, ids)
    return run_id


def run(n: int) -> Figures:
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        out = Path(tmp) / "out"
        out.mkdir()
        started = time.perf_counter()
        for i in range(0, n, 2):
            (out / f"f{i:05}.txt").write_text(f"line one of {i}\nline two\n")
        before = _state(out)
        run_id = _applied_run(db, out, n)
        setup_s = time.perf_counter() - started
        ana = Console(db, actor="ana")
        started = time.perf_counter()
        result = ana.undo_run(run_id)
        plan_s = time.perf_counter() - started
        ids = [w.id for w in Write.select(Write.id).where(Write.run == result.run.id)]
        assert all(r.ok for r in ana.approve(ids))
        started = time.perf_counter()
        _apply_all(db, ids)
        apply_s = time.perf_counter() - started
        restored = _state(out) == before
        db.close()
    return Figures(n, setup_s, plan_s, result.writes, apply_s, restored)


def table(f: Figures) -> str:
    return "\n".join(
        [
            f"undo benchmark: a run of {f.writes:,} applied file writes, temporary SQLite "
            f"(setup {f.setup_s:.1f} s, not measured)",
            "",
            f"undo planned (runs undo)     {f.plan_s:>8.3f} s   ({f.undo_writes:,} undo writes)",
            f"undo writes applied          {f.apply_s:>8.3f} s   (not a goal)",
            f"every byte restored          {'yes' if f.restored else 'NO':>8}",
            "",
            *(
                f"{'PASS' if ok else 'FAIL'}  {name}: {value:.3f} {unit} (goal {target})"
                for name, value, unit, target, ok in f.checks()
            ),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=1000, help="applied file writes")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if args.writes < 1:
        parser.error("--writes must be at least 1")
    figures = run(args.writes)
    return report(figures, table, args.json, ("name", "value", "unit", "target", "pass"))


if __name__ == "__main__":
    sys.exit(main())
