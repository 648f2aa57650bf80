"""Benchmark of a big input: a CSV of N rows planned by a `for_each: rows` step in a
dry run (issue 14, item 10).

    python -m bench.big_input [--rows N] [--json]

A temporary SQLite database holds one dry-run workflow (`read: csv`, one `write_file`
step per row, `max_writes: none`). The planning runs in a child process, which records
a manual run of the CSV and plans it with the engine's executor (claim, read, plan,
record every planned write); this process times the child from its start to the run's
end and reads its peak RSS (`ru_maxrss` of the waited-for child).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import report

REPO = Path(__file__).resolve().parent.parent
SECONDS_GOAL = 60.0
RSS_GOAL_MIB = 300.0

WORKFLOW = """\
name: big-input
category: bench
owner: bench-owner
description: One write per row of a big CSV.
trigger: {{manual: true}}
input: {{read: csv, max_bytes: 2000000000}}
output: {{paths: ["{out}"], staging_paths: ["{out}"]}}
steps:
  - action: write_file
    for_each: rows
    to: "{{{{ output.path }}}}/{{{{ row.id }}}}.txt"
    content: "{{{{ row.name }}}} owes {{{{ row.amount }}}}"
approval: {{mode: always}}
notify: {{on_failure: [tray]}}
rollback: Nothing to undo, a dry run writes nothing.
max_writes: none
"""

CHILD = """
import json, sys
from pathlib import Path
from tests.support.inmemory_keyring import InMemoryKeyring
import keyring
keyring.set_keyring(InMemoryKeyring())
from sophmate_desktop.console import Console
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import Run
from sophmate_desktop.store.transitions.intake import Offer, record_offers
url, doc, csv_path = sys.argv[1:4]
db = open_database(url)
console = Console(db, actor="bench")
console.import_workflow(Path(doc).read_text())
engine = Engine(db, workers=1, watch=False)
((run_id, _),) = record_offers(db, [Offer("big-input", "manual", Path(csv_path),
                                          mode="dry_run")], engine.host)
engine.executor.execute_run(run_id)
run = Run.get_by_id(run_id)
print(json.dumps({"status": run.status, "actions": run.actions, "error": run.error}))
"""


@dataclass
class Figures:
    rows: int
    csv_mib: float
    seconds: float
    peak_rss_mib: float
    status: str
    writes: int
    error: str | None

    def checks(self) -> list[tuple[str, str, str, bool]]:
        return [
            ("run succeeded", self.status, "succeeded", self.status == "succeeded"),
            ("writes planned", f"{self.writes:,}", f"{self.rows:,}", self.writes == self.rows),
            ("seconds to plan", f"{self.seconds:.1f} s", f"< {SECONDS_GOAL:g} s",
             self.seconds < SECONDS_GOAL),
            ("peak RSS of the planning", f"{self.peak_rss_mib:.0f} MiB",
             f"< {RSS_GOAL_MIB:g} MiB", self.peak_rss_mib < RSS_GOAL_MIB),
        ]  # fmt: skip


def write_csv(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("id,name,amount\n")
        for i in range(1, rows + 1):
            fh.write(f"{i},customer-{i},{i % 997}.50\n")


def run(rows: int) -> Figures:
    with tempfile.TemporaryDirectory(prefix="sophmate-bench-") as t:
        tmp = Path(t)
        out = tmp / "out"
        out.mkdir()
        csv_path, doc = tmp / "big.csv", tmp / "big.yaml"
        write_csv(csv_path, rows)
        doc.write_text(WORKFLOW.format(out=out))
        env = dict(os.environ, PYTHONPATH=str(REPO))
        cmd = [sys.executable, "-c", CHILD, f"sqlite:///{tmp / 'db.sqlite3'}", str(doc)]
        t0 = time.monotonic()
        done = subprocess.run(
            [*cmd, str(csv_path)], env=env, capture_output=True, text=True, check=False
        )
        seconds = time.monotonic() - t0
        if done.returncode != 0:
            raise RuntimeError(f"the planning process failed: {done.stderr[-2000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
        return Figures(
            rows,
            csv_path.stat().st_size / 2**20,
            seconds,
            peak,
            result["status"],
            result["actions"] or 0,
            result["error"],
        )


def table(f: Figures) -> str:
    lines = [
        f"big input: {f.rows:,} CSV rows ({f.csv_mib:.1f} MiB), for_each rows, dry run",
        f"planning process: {f.seconds:.1f} s, peak RSS {f.peak_rss_mib:.0f} MiB, "
        f"run {f.status}, {f.writes:,} writes" + (f" ({f.error})" if f.error else ""),
        "",
        f"{'goal':<28} {'measured':>14} {'target':>12}  result",
    ]
    for name, value, target, ok in f.checks():
        lines.append(f"{name:<28} {value:>14} {target:>12}  {'PASS' if ok else 'FAIL'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000, help="CSV rows (1000000)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a = p.parse_args(argv)
    return report(run(a.rows), table, a.json, ("goal", "measured", "target", "pass"))


if __name__ == "__main__":
    sys.exit(main())
