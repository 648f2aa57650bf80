"""Fault trials for `bench.faults`, one module per area of issue 14.

Each module defines `TRIALS`: a list of `Trial`. A trial's `run(trials)` injects its
fault `trials` times against the real product (real SQLite files, real engine
processes, real watchdog observers) and returns a `FaultResult` with counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class FaultResult:
    """What a fault did. `held` + `lost` + `doubled` == `trials` is not required: a
    trial may check several items (e.g. 2,000 files); counts are of items."""

    trials: int
    held: int
    lost: int = 0
    doubled: int = 0
    leaked: int = 0
    unexplained: int = 0
    detail: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.doubled or self.leaked or self.unexplained)


@dataclass(frozen=True)
class Trial:
    name: str
    default_trials: int
    run: Callable[[int], FaultResult]
    quick_trials: int = 1
