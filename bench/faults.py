"""The fault table of issue 14: each fault injected against the real product.

    python -m bench.faults [--quick] [--only SUBSTRING] [--json]

Every area of the fault campaign has a module in `bench/fault_trials/` listing its
trials. A row says how many trials ran and, over the items they checked, how many the
product held (came out right and explained), lost, doubled or leaked, and how many
ended in a state nobody was told about (unexplained). The exit status is 1 when any
row has something lost, doubled, leaked or unexplained.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import time
from dataclasses import asdict

from bench import fault_trials
from bench.fault_trials import FaultResult, Trial

COLUMNS = ("fault", "trials", "held", "lost", "doubled", "leaked", "unexplained", "s")


def all_trials() -> list[Trial]:
    trials: list[Trial] = []
    for info in sorted(pkgutil.iter_modules(fault_trials.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"bench.fault_trials.{info.name}")
        trials.extend(getattr(module, "TRIALS", []))
    return trials


def _row(name: str, result: FaultResult, seconds: float) -> list[str]:
    return [
        name, str(result.trials), str(result.held), str(result.lost),
        str(result.doubled), str(result.leaked), str(result.unexplained), f"{seconds:.1f}",
    ]


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [list(COLUMNS), *rows]) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each fault's quick trial count")
    parser.add_argument("--only", default="", help="run the faults whose name contains this")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    rows: list[list[str]] = []
    docs: list[dict] = []
    ok = True
    for trial in all_trials():
        if args.only and args.only not in trial.name:
            continue
        count = trial.quick_trials if args.quick else trial.default_trials
        print(f"fault: {trial.name} x{count}", file=sys.stderr)
        started = time.perf_counter()
        result = trial.run(count)
        seconds = time.perf_counter() - started
        ok = ok and result.ok
        rows.append(_row(trial.name, result, seconds))
        docs.append({"fault": trial.name, "seconds": round(seconds, 2), **asdict(result)})
    if args.json:
        print(json.dumps({"faults": docs, "pass": ok}, indent=2))
    else:
        print(table(rows))
        for doc in docs:
            if doc["detail"]:
                print(f"- {doc['fault']}: {doc['detail']}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
