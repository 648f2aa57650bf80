"""The scheduler: one thread that sleeps until the next slot of any time trigger (or
a wake-up when workflows change) and offers the slots that fell due.

Which slots are due comes from the database (store/schedules.py: each workflow's next
slot), so a restart resumes where any engine left off and slots missed while no
engine ran are caught up by the trigger's `catch_up`. Claiming happens where the run
is recorded (intake), once per slot across engines. The clock is a `now` callable
(naive UTC) so tests move time by hand and `wake()` the thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from peewee import Database

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.schedule import (
    CATCH_UP_ALL_LIMIT,
    catch_up_of,
    is_scheduled,
    newest_slots,
    next_slot,
    schedule_key,
    slots_between,
)
from sophmate_desktop.domain.workflow import TriggerSpec
from sophmate_desktop.store.schedules import Slot, schedule_states, start_schedule
from sophmate_desktop.store.transitions.intake import Offer
from sophmate_desktop.store.workflows import load_workflows

log = logging.getLogger(__name__)
# A slot more than this late is missed (the app was closed, the machine slept) and
# follows catch_up; a slot within it is simply run, however busy the machine was.
GRACE_S = 30.0
# The longest sleep: a suspended machine's monotonic clock stops, the wall clock not.
MAX_SLEEP_S = 60.0
_TICK = dt.timedelta(microseconds=1)


@dataclass
class _Schedule:
    workflow_id: int
    trigger: TriggerSpec
    key: str
    next_at: dt.datetime


class Scheduler:
    def __init__(
        self,
        db: Database,
        *,
        submit: Callable[[Offer], None],
        stopping: threading.Event,
        now: Callable[[], dt.datetime] = utcnow,
        grace_s: float = GRACE_S,
        serves: Callable[[str | None], bool] = lambda runs_on: True,
    ) -> None:
        self.db = db
        self._submit = submit
        self._serves = serves  # a workflow another engine runs is not scheduled here
        self._stopping = stopping
        self.now = now
        self._grace = dt.timedelta(seconds=grace_s)
        self._wake = threading.Event()
        self._dirty = True
        self._lock = threading.Lock()
        self._schedules: dict[str, _Schedule] = {}
        self._thread: threading.Thread | None = None
        self.offered = 0  # slot offers made so far (tests, bench)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sophmate-schedules", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def refresh(self) -> None:
        """Workflows changed: re-read the schedules before the next look."""
        self._dirty = True
        self._wake.set()

    def wake(self) -> None:
        """Look at the clock now (a test moved it, a slot may be due)."""
        self._wake.set()

    def next_slots(self) -> dict[str, dt.datetime]:
        with self._lock:
            return {name: s.next_at for name, s in self._schedules.items()}

    def _loop(self) -> None:
        with self.db.connection_context():
            while not self._stopping.is_set():
                self._wake.clear()
                try:
                    if self._dirty:
                        self._dirty = False
                        self._load()
                    self._offer_due(self.now())
                except Exception:
                    log.exception("scheduler look failed")
                    self._dirty = True
                self._wake.wait(self._sleep_s())

    def _sleep_s(self) -> float:
        with self._lock:
            soonest = min((s.next_at for s in self._schedules.values()), default=None)
        if soonest is None:
            return MAX_SLEEP_S
        wait = (soonest - self.now()).total_seconds()
        return min(MAX_SLEEP_S, max(0.0, wait) + 0.0005)

    def _load(self) -> None:
        now = self.now()
        found = {
            wf.name: (wf.id, wf.definition.trigger)
            for wf in load_workflows(enabled_only=True)
            if is_scheduled(wf.definition.trigger) and self._serves(wf.definition.runs_on)
        }
        states = schedule_states(self.db)
        for name, (wf_id, trig) in found.items():
            key = schedule_key(trig)
            state = states.get(name)
            if state is None or state[0] != key:
                # a new (or changed) schedule starts with its next slot from now
                start_schedule(self.db, wf_id, key, next_slot(trig, now), now)
        states = schedule_states(self.db) if found else {}
        fresh = {}
        for name, (wf_id, trig) in found.items():
            key, next_at = states[name]
            fresh[name] = _Schedule(wf_id, trig, key, next_at)
        with self._lock:
            self._schedules = fresh

    def _offer_due(self, now: dt.datetime) -> None:
        with self._lock:
            due = [(n, s) for n, s in self._schedules.items() if s.next_at <= now]
        offers: list[tuple[dt.datetime, str, Slot]] = []
        for name, sched in due:
            slots = self._decide(sched, now)
            offers.extend((slot.at, name, slot) for slot in slots)
            if slots:
                sched.next_at = slots[-1].next_at
        # the same order in every engine: their claims take locks in one order
        for _, name, slot in sorted(offers, key=lambda o: (o[0], o[1])):
            self._submit(Offer(name, "schedule", slot=slot))
            self.offered += 1

    def _decide(self, sched: _Schedule, now: dt.datetime) -> list[Slot]:
        """The slots to offer for one due schedule: missed ones by catch_up, then those
        within the grace period, each as itself."""
        trig, key = sched.trigger, sched.key
        cutoff = now - self._grace
        out: list[Slot] = []
        if sched.next_at < cutoff:
            newest, older = newest_slots(
                trig,
                sched.next_at - _TICK,
                cutoff - _TICK,
                CATCH_UP_ALL_LIMIT if catch_up_of(trig) == "all" else 1,
            )
            mode = catch_up_of(trig)
            for i, at in enumerate(newest):
                passed = older if i == 0 else 0
                out.append(
                    Slot(
                        at,
                        key,
                        next_slot(trig, at),
                        catch_up=mode != "none",
                        skip=mode == "none",
                        passed=passed,
                    )
                )
        on_time = slots_between(trig, max(sched.next_at, cutoff) - _TICK, now)
        out.extend(Slot(at, key, next_slot(trig, at)) for at in on_time)
        return out
