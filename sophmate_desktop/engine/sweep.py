"""The engine's heartbeat and its look for dead engines' work (engine/takeover.py).

The heartbeat keeps this engine's lease: it beats every `min(HEARTBEAT_S, lease / 3)`
so that two late beats in a row still do not let it be judged dead. A living engine
looks for work to take over at each of its beats (engines of this host: their pid
tells at once) and when the soonest lease of another host's engine ends, so that a
killed desktop's work moves within a tick of its lease rather than up to a heartbeat
later. The monitor calls `tick()` on each of its turns (at least every idle tick)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from peewee import Database

from sophmate_desktop.engine.binding import EngineIdentity
from sophmate_desktop.engine.lifeline import Lifeline
from sophmate_desktop.engine.takeover import held_by_dead, take_over
from sophmate_desktop.store import instances

log = logging.getLogger(__name__)

HEARTBEAT_S = 10.0  # the instance's heartbeat, the setting re-read, ended commands forgotten
LEASE_MARGIN_S = 0.2  # look this long after a lease's end, so that it has ended here too


def beat_interval(lease_s: float) -> float:
    return min(HEARTBEAT_S, lease_s / 3)


class Sweep:
    def __init__(
        self,
        db: Database,
        *,
        instance_id: str,
        host: str,
        identity: EngineIdentity,
        lease_s: float,
        lifeline: Lifeline,
        read_settings: Callable[[], None],
        took_over: Callable[[], None],
    ) -> None:
        self.db = db
        self.instance_id = instance_id
        self.host = host
        self.identity = identity
        self.interval = beat_interval(lease_s)
        self._lifeline = lifeline
        self._read_settings = read_settings
        self._took_over = took_over
        self._beat_due = time.monotonic() + self.interval
        # When the soonest other lease ends (learned on the first turn: the engine's
        # start took over what was dead then; this host's dead are found at the beats).
        self._look_due: float | None = None

    def tick(self) -> None:
        now = time.monotonic()
        if now >= self._beat_due:
            self._beat_due = now + self.interval
            self._guarded(self._beat)
            self._guarded(self._look)
        elif self._look_due is None:
            self._guarded(self._plan)
        elif now >= self._look_due:
            self._guarded(self._look)

    def _guarded(self, step: Callable[[], None]) -> None:
        try:
            step()
        except Exception:
            log.exception("engine heartbeat failed")

    def _beat(self) -> None:
        instances.heartbeat(self.db, self.instance_id)
        self._lifeline.sweep()
        self._read_settings()

    def _look(self) -> None:
        self._look_due = self._beat_due  # looked at again then if this look fails
        serves = self.identity.serves
        if held_by_dead(self.db, self.instance_id, serves):  # an engine died while we run
            counts = take_over(self.db, self.instance_id, self.host, serves=serves)
            log.warning("took over from engines that stopped answering: %s", counts)
            self._took_over()
        self._plan()

    def _plan(self) -> None:
        self._look_due = self._beat_due
        left = instances.next_lease_end(self.db, self.instance_id)
        if left is not None:
            self._look_due = min(self._beat_due, time.monotonic() + left + LEASE_MARGIN_S)
