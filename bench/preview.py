"""Benchmark of the change preview: the last N inputs planned against the saved and
the edited definition.

    python -m bench.preview [--inputs N] [--trials N] [--db URL] [--json]

Imports a workflow of two write_file steps reading its trigger file as text, writes
N trigger files (a few kB each) and records a finished run for each, as the engine
records a trigger (path, size, mtime, sha256). The edited definition changes the
first step's template and adds a third step, so every input has changed and added
writes with diffs. Each trial is one console.preview_change(edited, last=N), from
the call to the frozen result (files hashed, both definitions planned, writes
compared, the audit event committed). The goal: 50 inputs in under 2 s.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import report
from sophmate_desktop.console import Console
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.workflow_file import parse_workflow_yaml
from sophmate_desktop.store.database import open_database, write_transaction
from sophmate_desktop.store.models import Run, Workflow

GOAL_S = 2.0
GOAL_INPUTS = 50
WORKFLOW = """\
name: bench-preview
category: bench
owner: ops-lead
description: Change preview benchmark.
trigger: {{folder: {root}/inbox, patterns: ["*.txt"]}}
input: {{read: text, max_bytes: 1000000}}
output: {{paths: [{root}/out], staging_paths: [{root}/staging]}}
steps:
  - action: write_file
    to: "{{{{ output.path }}}}/{{{{ file.name }}}}"
    content: "{greeting} {{{{ input }}}}"
  - action: write_file
    to: "{{{{ output.path }}}}/{{{{ file.stem }}}}.summary"
    content: "{{{{ file.name }}}}: {{{{ input | length }}}} characters"
{extra}approval: {{mode: always}}
retry: {{limit: 1, backoff_s: 1}}
notify: {{on_failure: [tray]}}
pause: {{consecutive_failures: 3}}
rollback: Delete the written files.
"""
EXTRA = """\
  - action: write_file
    to: "{{ output.path }}/{{ file.stem }}.copy"
    content: "{{ input }}"
"""


@dataclass
class Figures:
    inputs: int
    trials: int
    database: str
    median_s: float
    best_s: float
    worst_s: float
    per_input_ms: float
    changed_writes: int
    added_writes: int

    def checks(self) -> list[tuple[str, str, str, bool]]:
        goal = f"{GOAL_INPUTS} inputs previewed"
        scaled = self.median_s * GOAL_INPUTS / max(1, self.inputs)
        return [(goal, f"{scaled:.3f} s (median)", f"< {GOAL_S} s", scaled < GOAL_S)]


def record_inputs(db, root: Path, count: int) -> None:
    wf = Workflow.get(Workflow.name == "bench-preview")
    inbox = root / "inbox"
    now = utcnow()
    with write_transaction(db):
        for n in range(count):
            path = inbox / f"input-{n:04}.txt"
            path.write_text("\n".join(f"line {i} of input {n}" for i in range(200)))
            st = path.stat()
            Run.create(
                workflow=wf,
                revision=wf.revision,
                trigger_kind="file",
                trigger_path=str(path),
                trigger_size=st.st_size,
                trigger_mtime=st.st_mtime,
                trigger_hash=hashlib.sha256(path.read_bytes()).hexdigest(),
                mode="staging",
                status="succeeded",
                queued_at=now,
                started_at=now,
                finished_at=now,
            )


def measure(url: str | None, root: Path, inputs: int, trials: int) -> Figures:
    for name in ("inbox", "out", "staging"):
        (root / name).mkdir()
    db = open_database(url or f"sqlite:///{root / 'preview.sqlite3'}")
    try:
        console = Console(db, actor="bench")
        console.import_workflow(WORKFLOW.format(root=root, greeting="Hello", extra=""))
        record_inputs(db, root, inputs)
        edited = parse_workflow_yaml(WORKFLOW.format(root=root, greeting="Hi", extra=EXTRA))
        times, result = [], None
        for trial in range(trials):
            start = time.perf_counter()
            result = console.preview_change(edited, last=inputs)
            times.append(time.perf_counter() - start)
            print(f"trial {trial + 1}: {times[-1]:.3f} s", file=sys.stderr)
        totals = result.totals()
        median = statistics.median(times)
        return Figures(
            inputs=totals["inputs"],
            trials=trials,
            database=db.url_display,
            median_s=median,
            best_s=min(times),
            worst_s=max(times),
            per_input_ms=median * 1000 / max(1, totals["inputs"]),
            changed_writes=totals["changed"],
            added_writes=totals["added"],
        )
    finally:
        db.close()


def table(f: Figures) -> str:
    lines = [
        f"change preview: {f.inputs} inputs, {f.trials} trials, {f.database}",
        f"  median {f.median_s:.3f} s, best {f.best_s:.3f} s, worst {f.worst_s:.3f} s",
        f"  {f.per_input_ms:.2f} ms per input; {f.changed_writes} changed, "
        f"{f.added_writes} added writes",
    ]
    for goal, measured, target, ok in f.checks():
        lines.append(f"  {goal}: {measured} (goal {target}) {'PASS' if ok else 'FAIL'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--inputs", type=int, default=GOAL_INPUTS, help="inputs to replay (50)")
    p.add_argument("--trials", type=int, default=5, help="previews to time (5)")
    p.add_argument("--db", metavar="URL", help="a scratch database (default: temporary SQLite)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        f = measure(a.db, Path(tmp), a.inputs, a.trials)
    return report(f, table, a.json, ("goal", "measured", "target", "pass"))


if __name__ == "__main__":
    sys.exit(main())
