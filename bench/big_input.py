"""Benchmark of a big input: a CSV of N rows planned by a `for_each: rows` step in a
dry run (issue 14, item 10).

    python -m bench.big_input [--rows N ...] [--memory-rows A B] [--json]

Defaults: 100,000 and 1,000,000 rows (goal at 1,000,000: < 60 s, < 300 MiB RSS), and
the memory figure over 10,000 vs 100,000 rows.

A temporary SQLite database holds one dry-run workflow (`read: csv`, one `write_file`
step per row, `max_writes: none`, `plan_timeout_s: 600`). Each size is planned in a
fresh child process, which records a manual run of the CSV and plans it with the
engine's executor (claim, read, plan, record every planned write); this process
times the child from its start to the run's end, and the child reports its own peak
RSS (`ru_maxrss`) and its RSS before planning (the floor: Python, the engine, the
database open). rows/s counts the planning call only (`execute_run`). The floor ("raw s"): the same
CSV read and inserted raw into SQLite by another child in the same run (FLOOR), so
the ratio plan s / raw s can be compared between a loaded and a quiet machine.
The memory figure: tracemalloc's peak over `execute_run` at A and at B rows (both
streamed: the executor's streaming threshold set to 0); streaming holds one batch,
so the peak must not grow with the rows (goal: peak at B < 2 x peak at A).
"""

from __future__ import annotations

import argparse
import json
import os
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
plan_timeout_s: 600
"""

CHILD = """
import json, resource, sys, time, tracemalloc
from pathlib import Path
from tests.support.inmemory_keyring import InMemoryKeyring
import keyring
keyring.set_keyring(InMemoryKeyring())
from sophmate_desktop.console import Console
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import Run
from sophmate_desktop.store.transitions.intake import Offer, record_offers
url, doc, csv_path, traced = sys.argv[1:5]
db = open_database(url)
console = Console(db, actor="bench")
console.import_workflow(Path(doc).read_text())
engine = Engine(db, workers=1, watch=False)
((run_id, _),) = record_offers(db, [Offer("big-input", "manual", Path(csv_path),
                                          mode="dry_run")], engine.host)
floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if traced == "1":
    engine.executor.stream_min_bytes = 0
    tracemalloc.start()
t0 = time.monotonic()
engine.executor.execute_run(run_id)
seconds = time.monotonic() - t0
traced_peak = tracemalloc.get_traced_memory()[1] if traced == "1" else 0
run = Run.get_by_id(run_id)
print(json.dumps({"status": run.status, "actions": run.actions, "error": run.error,
                  "plan_s": seconds, "floor_kib": floor, "traced_peak": traced_peak,
                  "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

# The floor a plan of the same CSV is measured against (run in the same bench, so the
# ratio holds on a loaded machine): the rows read with csv.DictReader and inserted
# with one executemany per 2,000 rows into a table of three columns and no index, in
# one transaction of a SQLite file opened as the product opens it.
FLOOR = """
import csv, sys, time
from sophmate_desktop.store.database import open_database
url, csv_path = sys.argv[1:3]
db = open_database(url)
conn = db.connection()
conn.execute("CREATE TABLE floor (id TEXT, name TEXT, amount TEXT)")
t0 = time.monotonic()
conn.execute("BEGIN")
with open(csv_path, newline="", encoding="utf-8") as fh:
    batch = []
    for row in csv.DictReader(fh):
        batch.append((row["id"], row["name"], row["amount"]))
        if len(batch) == 2000:
            conn.executemany("INSERT INTO floor VALUES (?, ?, ?)", batch)
            batch = []
    conn.executemany("INSERT INTO floor VALUES (?, ?, ?)", batch)
conn.execute("COMMIT")
print(time.monotonic() - t0)
"""


@dataclass
class Size:
    rows: int
    csv_mib: float
    seconds: float  # the child process, start to end
    plan_seconds: float  # execute_run only
    rows_per_s: float
    peak_rss_mib: float
    floor_rss_mib: float
    status: str
    writes: int
    error: str | None
    floor_seconds: float = 0.0  # the same CSV read and inserted raw (FLOOR)


@dataclass
class Figures:
    load_average: str
    sizes: list[Size]
    memory_rows: tuple[int, int]
    traced_peak_mib: tuple[float, float]

    def checks(self) -> list[tuple[str, str, str, bool]]:
        out = []
        for s in self.sizes:
            n = f"{s.rows:,} rows"
            out += [
                (f"{n}: run succeeded", s.status, "succeeded", s.status == "succeeded"),
                (f"{n}: writes planned", f"{s.writes:,}", f"{s.rows:,}", s.writes == s.rows),
            ]
            if s.rows >= 1_000_000:
                out += [
                    (f"{n}: seconds", f"{s.seconds:.1f} s", f"< {SECONDS_GOAL:g} s",
                     s.seconds < SECONDS_GOAL),
                    (f"{n}: peak RSS", f"{s.peak_rss_mib:.0f} MiB", f"< {RSS_GOAL_MIB:g} MiB",
                     s.peak_rss_mib < RSS_GOAL_MIB),
                ]  # fmt: skip
        a, b = self.traced_peak_mib
        ra, rb = self.memory_rows
        out.append((f"traced peak {rb:,} / {ra:,} rows", f"{b / a:.2f}x" if a else "-",
                    "< 2x", bool(a) and b < 2 * a))  # fmt: skip
        return out


def write_csv(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("id,name,amount\n")
        for i in range(1, rows + 1):
            fh.write(f"{i},customer-{i},{i % 997}.50\n")


def plan_child(rows: int, traced: bool = False) -> tuple[dict, float, float, float]:
    """(the child's report, its seconds, the CSV's MiB, the floor's seconds) for a CSV
    of `rows` rows."""
    with tempfile.TemporaryDirectory(prefix="sophmate-bench-") as t:
        tmp = Path(t)
        out = tmp / "out"
        out.mkdir()
        csv_path, doc = tmp / "big.csv", tmp / "big.yaml"
        write_csv(csv_path, rows)
        doc.write_text(WORKFLOW.format(out=out))
        env = dict(os.environ, PYTHONPATH=str(REPO))
        floor = 0.0
        if not traced:
            raw = subprocess.run(
                [sys.executable, "-c", FLOOR, f"sqlite:///{tmp / 'floor.sqlite3'}", str(csv_path)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            floor = float(raw.stdout.strip().splitlines()[-1])
        cmd = [sys.executable, "-c", CHILD, f"sqlite:///{tmp / 'db.sqlite3'}", str(doc)]
        t0 = time.monotonic()
        done = subprocess.run(
            [*cmd, str(csv_path), "1" if traced else "0"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.monotonic() - t0
        if done.returncode != 0:
            raise RuntimeError(f"the planning process failed: {done.stderr[-2000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        return result, seconds, csv_path.stat().st_size / 2**20, floor


def size(rows: int) -> Size:
    r, seconds, mib, floor = plan_child(rows)
    return Size(
        rows,
        mib,
        seconds,
        r["plan_s"],
        rows / r["plan_s"] if r["plan_s"] else 0.0,
        r["peak_kib"] / 1024,  # KiB on Linux
        r["floor_kib"] / 1024,
        r["status"],
        r["actions"] or 0,
        r["error"],
        floor,
    )


def run(rows: list[int], memory_rows: tuple[int, int]) -> Figures:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    sizes = [size(n) for n in rows]
    peaks = tuple(plan_child(n, traced=True)[0]["traced_peak"] / 2**20 for n in memory_rows)
    return Figures(load, sizes, memory_rows, peaks)  # type: ignore[arg-type]


def table(f: Figures) -> str:
    lines = [f"big input: CSV rows, for_each rows, dry run (load average {f.load_average})", ""]
    lines.append(
        f"{'rows':>10} {'CSV MiB':>8} {'process s':>10} {'plan s':>7} {'rows/s':>8} "
        f"{'peak RSS':>9} {'floor RSS':>9} {'raw s':>6} {'x raw':>6}  status"
    )
    for s in f.sizes:
        ratio = s.plan_seconds / s.floor_seconds if s.floor_seconds else 0.0
        lines.append(
            f"{s.rows:>10,} {s.csv_mib:>8.1f} {s.seconds:>10.1f} {s.plan_seconds:>7.1f} "
            f"{s.rows_per_s:>8,.0f} {s.peak_rss_mib:>6.0f} MiB {s.floor_rss_mib:>5.0f} MiB "
            f"{s.floor_seconds:>6.2f} {ratio:>6.1f}  "
            f"{s.status}" + (f" ({s.error})" if s.error else "")
        )
    lines.append(
        "raw s: the same CSV read with csv.DictReader and inserted raw (3 columns, no\n"
        "index, one transaction); x raw: plan s / raw s, which holds under load"
    )
    (ra, rb), (pa, pb) = f.memory_rows, f.traced_peak_mib
    lines += [
        "",
        f"tracemalloc peak of the plan (streamed): {ra:,} rows {pa:.1f} MiB, "
        f"{rb:,} rows {pb:.1f} MiB",
        "",
        f"{'goal':<34} {'measured':>14} {'target':>12}  result",
    ]
    for name, value, target, ok in f.checks():
        lines.append(f"{name:<34} {value:>14} {target:>12}  {'PASS' if ok else 'FAIL'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--memory-rows", type=int, nargs=2, default=[10_000, 100_000])
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a = p.parse_args(argv)
    figures = run(a.rows, tuple(a.memory_rows))
    return report(figures, table, a.json, ("goal", "measured", "target", "pass"))


if __name__ == "__main__":
    sys.exit(main())
