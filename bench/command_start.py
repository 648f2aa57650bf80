"""What the command supervisor costs (issue 14, item 5): the time to start and reap a
command that does nothing (`true`), started directly (the old path, the floor) and
under the supervisor (engine/actions/supervisor.py), in the same run, and the
supervisor's resident memory.

    python -m bench.command_start [--runs N] [--json]

Goal: a supervised start adds < 100 ms (median) to a command; the supervisor's
RSS < 20 MiB. Report `uptime`'s load beside the figures: both paths are measured
alternately, so their difference holds under load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

from bench.common import report
from sophmate_desktop.engine.actions import launcher

GOAL_ADDED_MS = 100.0
GOAL_RSS_MIB = 20.0


@dataclass
class Figures:
    runs: int
    load: str
    direct_ms: float = 0.0
    supervised_ms: float = 0.0
    supervisor_rss_mib: float = 0.0
    samples: dict[str, list[float]] = field(default_factory=dict)

    def checks(self) -> list[tuple[str, float, str, str, bool]]:
        added = self.supervised_ms - self.direct_ms
        return [
            ("added to a command's start (median)", added, "ms", f"< {GOAL_ADDED_MS:g}",
             added < GOAL_ADDED_MS),
            ("supervisor RSS", self.supervisor_rss_mib, "MiB", f"< {GOAL_RSS_MIB:g}",
             self.supervisor_rss_mib < GOAL_RSS_MIB),
        ]


def _once(supervised: bool) -> float:
    started = time.perf_counter()
    if supervised:
        proc = launcher.popen(["true"], start_new_session=True)
    else:
        proc = subprocess.Popen(["true"], start_new_session=True)
    proc.wait()
    return (time.perf_counter() - started) * 1000


def _rss_mib() -> float:
    proc = launcher.popen(["sleep", "5"], start_new_session=True)
    try:
        time.sleep(0.3)
        with open(f"/proc/{proc.pid}/status") as f:
            kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        return kb / 1024
    finally:
        proc.kill()
        proc.wait()


def measure(runs: int) -> Figures:
    figures = Figures(runs, load=" ".join(f"{x:.2f}" for x in os.getloadavg()))
    direct, supervised = [], []
    for _ in range(runs):
        direct.append(_once(False))
        supervised.append(_once(True))
    figures.direct_ms = statistics.median(direct)
    figures.supervised_ms = statistics.median(supervised)
    figures.supervisor_rss_mib = _rss_mib()
    figures.samples = {"direct_ms": direct, "supervised_ms": supervised}
    return figures


def table(f: Figures) -> str:
    return "\n".join([
        f"command start and reap of `true`, {f.runs} runs each, load average {f.load}",
        f"direct (old path)      {f.direct_ms:>8.1f} ms median",
        f"under the supervisor   {f.supervised_ms:>8.1f} ms median",
        "",
        *(f"{'PASS' if ok else 'FAIL'}  {name}: {value:.1f} {unit} (goal {target})"
          for name, value, unit, target, ok in f.checks()),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not launcher.supervises():
        print("no supervisor on this platform (Linux only)", file=sys.stderr)
        return 2
    return report(measure(args.runs), table, args.json, ("name", "value", "unit", "target",
                                                          "pass"))


if __name__ == "__main__":
    sys.exit(main())
