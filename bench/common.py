"""What every bench does at the end: print the table or JSON, exit 1 on a missed goal."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any


def report(
    figures: Any, table: Callable[[Any], str], as_json: bool, goal_fields: Sequence[str]
) -> int:
    """`figures.checks()` yields tuples named by `goal_fields`, the last one "pass"."""
    checks = figures.checks()
    if as_json:
        doc = asdict(figures)
        doc["goals"] = [dict(zip(goal_fields, check, strict=True)) for check in checks]
        print(json.dumps(doc, indent=2))
    else:
        print(table(figures))
    return 0 if all(check[-1] for check in checks) else 1


def wait_for(ok: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `ok` every 10 ms (a benchmark's own wait, outside what it times)."""
    deadline = time.monotonic() + timeout
    while not ok():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.01)
