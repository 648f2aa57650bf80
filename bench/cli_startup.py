"""Benchmark of the command line's start-up: process start to exit (issue 16, item 4).

    python -m bench.cli_startup [--runs N] [--json]

Each figure is the wall time of one `python -m sophmate_desktop ...` subprocess, from
just before it is started to its exit, on a temporary SQLite database made once with
`init` and one imported workflow (category `reporting`). `category pause` and `resume`
alternate, so every pause really pauses. The bare interpreter (`python -c pass`) is
measured in the same run, interleaved with the commands, as the floor. The keyring is
whatever keyring picks on this machine (as a user's terminal would have it). Bytecode
is cached as in an installed copy (PYTHONDONTWRITEBYTECODE is dropped for the runs).

After the timed runs, one pause runs under `python -X importtime`: the report lists its
15 imports with the largest cumulative time (a package's time includes its children's).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import report

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = REPO / "sophmate_desktop" / "resources" / "workflows" / "report-archive.yaml"
CATEGORY = "reporting"
GOALS_MS = {"--version": 100.0, "category pause": 200.0}
TOP_IMPORTS = 15


def load() -> float:
    return os.getloadavg()[0]


def _env() -> dict[str, str]:
    """The caller's environment without SOPHMATE_* and without PYTHONDONTWRITEBYTECODE:
    an installed copy has its bytecode compiled (pip does it), and a checkout gets it on
    the warm-up run; compiling ~80 modules from source would add ~120 ms to each run."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SOPHMATE_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env["PYTHONPATH"] = str(REPO)
    return env


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds from start to exit of one process (CPU: user + system of it
    and of any process it ran); a failing command stops the bench."""
    cpu0, t0 = _cpu_of_children(), time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed, cpu = time.perf_counter() - t0, _cpu_of_children() - cpu0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[1:])} exited {done.returncode}: {done.stderr}")
    return elapsed, cpu


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Figures:
    runs: int
    load_before: float
    load_after: float = 0.0
    p50_ms: dict[str, float] = field(default_factory=dict)
    p95_ms: dict[str, float] = field(default_factory=dict)
    cpu_p50_ms: dict[str, float] = field(default_factory=dict)
    top_imports: list[dict] = field(default_factory=list)

    def checks(self) -> list[tuple[str, str, str, bool]]:
        return [
            (
                f"{name} p50",
                f"{self.p50_ms[name]:.0f} ms",
                f"< {goal:.0f} ms",
                self.p50_ms[name] < goal,
            )
            for name, goal in GOALS_MS.items()
        ]


def _commands(db: str) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "sophmate_desktop"]
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "--version": [*cli, "--version"],
        "category pause": [*cli, "--db", db, "category", "pause", CATEGORY, "--reason", "b"],
        "category resume": [*cli, "--db", db, "category", "resume", CATEGORY, "--reason", "b"],
        "category list": [*cli, "--db", db, "category", "list"],
    }


def top_imports(argv: list[str], env: dict[str, str], count: int = TOP_IMPORTS) -> list[dict]:
    """The `count` imports of `argv` with the largest cumulative time (-X importtime)."""
    done = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]], env=env, capture_output=True, text=True
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line.removeprefix("import time:").split("|")
        rows.append(
            {
                "module": name.strip(),
                "cumulative_ms": int(cumulative_us) / 1000,
                "self_ms": int(self_us) / 1000,
            }
        )
    return sorted(rows, key=lambda r: -r["cumulative_ms"])[:count]


def run(runs: int) -> Figures:
    figures = Figures(runs=runs, load_before=load())
    env = _env()
    with tempfile.TemporaryDirectory(prefix="sm-cli-bench-") as tmp:
        db = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        cmds = _commands(db)
        _run([*cmds["--version"][:3], "--db", db, "init"], env)
        _run([*cmds["--version"][:3], "--db", db, "workflow", "import", str(WORKFLOW)], env)
        for argv in cmds.values():  # warm the page cache and the .pyc files
            _run(argv, env)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in cmds}
        for i in range(runs):
            print(f"round {i + 1}/{runs}", file=sys.stderr)
            for name, argv in cmds.items():
                times[name].append(_run(argv, env))
        figures.top_imports = top_imports(cmds["category pause"], env)
        _run(cmds["category resume"], env)
    for name, pairs in times.items():
        walls = [wall for wall, _ in pairs]
        figures.p50_ms[name] = statistics.median(walls) * 1000
        figures.p95_ms[name] = _percentile(walls, 0.95) * 1000
        figures.cpu_p50_ms[name] = statistics.median(cpu for _, cpu in pairs) * 1000
    figures.load_after = load()
    return figures


def table(f: Figures) -> str:
    lines = [
        f"CLI start-up, {f.runs} runs each, process start to exit "
        f"(load average {f.load_before:.2f} before, {f.load_after:.2f} after)",
        "",
        f"{'command':<18} {'p50 ms':>8} {'p95 ms':>8} {'CPU p50':>8} {'goal':>10}",
    ]
    for name in f.p50_ms:
        goal = (
            f"< {GOALS_MS[name]:.0f} ms" if name in GOALS_MS else "floor" if "pass" in name else ""
        )
        lines.append(
            f"{name:<18} {f.p50_ms[name]:8.1f} {f.p95_ms[name]:8.1f} "
            f"{f.cpu_p50_ms[name]:8.1f} {goal:>10}"
        )
    lines += [
        "",
        f"top {len(f.top_imports)} imports of `category pause` by cumulative time",
        f"{'module':<52} {'cumul. ms':>9} {'self ms':>8}",
    ]
    for row in f.top_imports:
        lines.append(f"{row['module']:<52} {row['cumulative_ms']:9.1f} {row['self_ms']:8.1f}")
    lines += ["", f"{'figure':<22} {'measured':>10} {'goal':>10}  met"]
    for name, value, target, ok in f.checks():
        lines.append(f"{name:<22} {value:>10} {target:>10}  {'PASS' if ok else 'FAIL'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cli_startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="runs of each command (20)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    a = parser.parse_args(argv)
    if a.runs < 1:
        parser.error("--runs: at least 1")
    return report(run(a.runs), table, a.json, ("goal", "measured", "target", "pass"))


if __name__ == "__main__":
    sys.exit(main())
