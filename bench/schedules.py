"""Benchmark of time triggers: 500 scheduled workflows, the idle engine's CPU and the
slot-to-run-started latency.

    python -m bench.schedules [--workflows N] [--idle-s S] [--fast N] [--slots-s S]
                              [--quick] [--json]

1. Idle: N workflows (default 500) with daily cron schedules spread over the day (none
   falls due while measured) are enabled on a temporary SQLite database; an engine CLI
   subprocess (`sophmate-desktop engine`) runs; after a 5 s warm-up its utime+stime
   from /proc/PID/stat is sampled over --idle-s seconds, as % of one core. The floor is
   the same engine on a database with no workflow, sampled the same way in this run.
2. Latency: the same N workflows, of which --fast (default 20) fire every second
   (`cron: "* * * * * *"`), under a second engine subprocess for --slots-s seconds.
   Each slot's latency is its run's started_at minus the slot time (both UTC wall
   clock, read back from the database: schedule_slot.slot_at, run.started_at).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import report
from bench.trigger import inmemory_keyring, log
from sophmate_desktop.console import Console
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import Run, ScheduleSlot
from tests.support.schedules import scheduled_doc

REPO = Path(__file__).resolve().parent.parent
CPU_GOAL_PCT = 0.2
LATENCY_GOAL_MS = 50.0
WARMUP_S = 5.0


def _cpu_ticks(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def make_db(root: Path, workflows: int, fast: int) -> str:
    root.mkdir(parents=True)
    url = f"sqlite:///{root / 'db.sqlite3'}"
    db = open_database(url)
    try:
        console = Console(db, actor="bench")
        out = root / "out"
        out.mkdir()
        for i in range(workflows):
            name = f"sched-{i:03d}"
            if i < fast:
                doc = scheduled_doc(name, out, category=f"cat-{i % 8}", cron="* * * * * *")
            else:  # daily, at minute i % 60 of hour (i // 60 + 12) % 24 UTC: not now
                hour = (time.gmtime().tm_hour + 12 + i // 60) % 24
                doc = scheduled_doc(
                    name, out, category=f"cat-{i % 8}", cron=f"{i % 60} {hour} * * *"
                )
            console.import_workflow(doc)
            console.enable_workflow(name)
    finally:
        db.close()
    return url


def engine(url: str, root: Path) -> subprocess.Popen:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO)
    env["PYTHON_KEYRING_BACKEND"] = "tests.support.inmemory_keyring.InMemoryKeyring"
    cmd = [sys.executable, "-m", "sophmate_desktop", "--db", url, "engine"]
    cmd += ["--log-file", str(root / "engine.log")]
    return subprocess.Popen(
        cmd, env=env, cwd=str(root), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def idle_cpu(url: str, root: Path, seconds: float) -> float:
    proc = engine(url, root)
    try:
        time.sleep(WARMUP_S)  # the warm-up the goal is defined with, not a wait for a result
        if proc.poll() is not None:
            raise RuntimeError(f"engine exited early: {proc.stderr.read().decode()[-2000:]}")
        hz = os.sysconf("SC_CLK_TCK")
        t0, c0 = time.monotonic(), _cpu_ticks(proc.pid)
        time.sleep(seconds)  # sampling the engine's CPU over a fixed span
        elapsed, c1 = time.monotonic() - t0, _cpu_ticks(proc.pid)
        return (c1 - c0) / hz / elapsed * 100
    finally:
        stop(proc)


def latencies(url: str, root: Path, seconds: float) -> tuple[list[float], int]:
    proc = engine(url, root)
    try:
        time.sleep(WARMUP_S + seconds)  # slots fall by the clock: this is the sample
    finally:
        code = stop(proc)
    db = open_database(url)
    try:
        with db.connection_context():
            rows = (
                ScheduleSlot.select(ScheduleSlot.slot_at, Run.started_at)
                .join(Run, on=(Run.id == ScheduleSlot.run_id))
                .where(Run.started_at.is_null(False))
                .tuples()
            )
            out = [(started - slot).total_seconds() * 1000 for slot, started in rows]
    finally:
        db.close()
    return sorted(out), code


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


@dataclass
class Figures:
    workflows: int
    fast: int
    idle_s: float
    slots_s: float
    floor_cpu_pct: float
    idle_cpu_pct: float
    slots: int
    latency_p50_ms: float
    latency_p95_ms: float
    latency_max_ms: float
    load_before: str
    load_after: str

    def checks(self) -> list[tuple[str, str, str, bool]]:
        return [
            (
                f"idle CPU, {self.workflows} schedules",
                f"{self.idle_cpu_pct:.3f}%",
                f"< {CPU_GOAL_PCT}%",
                self.idle_cpu_pct < CPU_GOAL_PCT,
            ),
            (
                "slot to run started, p95",
                f"{self.latency_p95_ms:.1f} ms",
                f"< {LATENCY_GOAL_MS:g} ms",
                self.slots > 0 and self.latency_p95_ms < LATENCY_GOAL_MS,
            ),
        ]


def run(workflows: int, fast: int, idle_s: float, slots_s: float) -> Figures:
    with tempfile.TemporaryDirectory(prefix="sm-bench-sched-") as tmp, inmemory_keyring():
        load_before = _load()
        log("floor: an engine with no workflow")
        floor = idle_cpu(make_db(Path(tmp) / "floor", 0, 0), Path(tmp) / "floor", idle_s)
        log(f"idle: {workflows} daily schedules, {idle_s:g} s after a {WARMUP_S:g} s warm-up")
        url = make_db(Path(tmp) / "idle", workflows, 0)
        cpu = idle_cpu(url, Path(tmp) / "idle", idle_s)
        log(f"latency: {fast} of {workflows} fire every second, for {slots_s:g} s")
        url = make_db(Path(tmp) / "fast", workflows, fast)
        lat, _code = latencies(url, Path(tmp) / "fast", slots_s)
        return Figures(
            workflows, fast, idle_s, slots_s, floor, cpu, len(lat),
            pct(lat, 50), pct(lat, 95), lat[-1] if lat else float("nan"),
            load_before, _load(),
        )  # fmt: skip


def table(f: Figures) -> str:
    lines = [
        f"schedules benchmark: {f.workflows} scheduled workflows (engine CLI subprocess)",
        f"load average before {f.load_before}, after {f.load_after}",
        "",
        f"idle engine, no workflow (floor)  {f.floor_cpu_pct:.3f}% of a core over {f.idle_s:g} s",
        f"idle engine, {f.workflows} daily schedules  {f.idle_cpu_pct:.3f}% of a core",
        f"slots run ({f.fast} every second, {f.slots_s:g} s + warm-up): {f.slots}",
        f"slot to run started  p50 {f.latency_p50_ms:.1f} ms  p95 {f.latency_p95_ms:.1f} ms"
        f"  max {f.latency_max_ms:.1f} ms",
        "",
        f"{'goal':<32} {'measured':>14} {'target':>12}  result",
    ]
    for name, value, target, ok in f.checks():
        lines.append(f"{name:<32} {value:>14} {target:>12}  {'PASS' if ok else 'FAIL'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workflows", type=int, default=500, help="scheduled workflows (500)")
    p.add_argument("--idle-s", type=float, default=30.0, help="idle sampling seconds (30)")
    p.add_argument("--fast", type=int, default=20, help="workflows firing every second (20)")
    p.add_argument("--slots-s", type=float, default=20.0, help="latency sample seconds (20)")
    p.add_argument("--quick", action="store_true", help="5 s idle sample, 10 s of slots")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a = p.parse_args(argv)
    if a.quick:
        a.idle_s, a.slots_s = 5.0, 10.0
    f = run(a.workflows, a.fast, a.idle_s, a.slots_s)
    return report(f, table, a.json, ("goal", "measured", "target", "pass"))


if __name__ == "__main__":
    sys.exit(main())
