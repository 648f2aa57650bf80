"""Which engine runs what (issue 13, item 3): every engine has a name (the host's by
default) and may belong to pools; a workflow that says `runs_on: NAME` is watched,
planned and applied only by the engine of that name or by the engines of that pool,
because its trigger files, output folders and keyring live there. A workflow without
`runs_on` runs on any engine of the database (a single desktop)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.workflow_fields import ENGINE_NAME, ENGINE_NAME_RULE
from sophmate_desktop.store import instances

NAME_ENV = "SOPHMATE_ENGINE_NAME"
POOLS_ENV = "SOPHMATE_ENGINE_POOLS"  # comma-separated
LEASE_ENV = "SOPHMATE_ENGINE_LEASE_S"


def _checked(name: str, what: str) -> str:
    if not ENGINE_NAME.fullmatch(name):
        raise BadInput(f"{what} {name!r} is not a valid name: {ENGINE_NAME_RULE}")
    return name


def host_engine_name() -> str:
    """The host's name as an engine name (characters a name may not hold become '-')."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", instances.this_host()).strip("-._")[:64] or "engine"


@dataclass(frozen=True)
class EngineIdentity:
    name: str
    pools: frozenset[str] = frozenset()

    @classmethod
    def of(cls, name: str | None = None, pools: Iterable[str] = ()) -> EngineIdentity:
        """From the arguments, else $SOPHMATE_ENGINE_NAME / $SOPHMATE_ENGINE_POOLS, else
        the host's name and no pool; BadInput naming a bad name."""
        name = name or os.environ.get(NAME_ENV) or host_engine_name()
        given = list(pools) or [p for p in os.environ.get(POOLS_ENV, "").split(",") if p.strip()]
        return cls(
            _checked(name, "engine name"),
            frozenset(_checked(p.strip(), "pool name") for p in given),
        )

    def serves(self, runs_on: str | None) -> bool:
        return runs_on is None or runs_on == self.name or runs_on in self.pools

    def labels(self) -> tuple[str, str]:
        """(name, pools comma-separated) as the engine's instance row keeps them."""
        return self.name, ",".join(sorted(self.pools))


def engine_lease(seconds: float | None = None) -> float:
    """The lease this engine declares (how long it may be silent before another host's
    engine takes its work over): the argument, else $SOPHMATE_ENGINE_LEASE_S, else 30 s;
    BadInput below instances.MIN_LEASE_S or not a number."""
    if seconds is None:
        text = os.environ.get(LEASE_ENV, "").strip()
        if not text:
            return instances.LEASE_S
        try:
            seconds = float(text)
        except ValueError:
            raise BadInput(f"{LEASE_ENV} {text!r} is not a number of seconds") from None
    if not seconds >= instances.MIN_LEASE_S or seconds == float("inf"):
        raise BadInput(
            f"the engine's lease ({seconds:g} s) must be at least {instances.MIN_LEASE_S:g} seconds"
        )
    return float(seconds)
