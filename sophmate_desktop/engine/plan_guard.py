"""Stopping a plan from outside its thread: a pause or the plan time limit ends a run
whose templates never finish (nested loops, a huge for_each).

A worker renders a step's templates inside `guarded_plan_step` only ("armed"). The
monitor stops an armed thread by raising `PlanStopped` in it with
`PyThreadState_SetAsyncExc`: CPython delivers it at the thread's next bytecode
boundary, so a Python-level loop (a compiled Jinja template, an action's code) ends
within a GIL switch interval. `PlanStopped` is a BaseException: the `except Exception`
of rendering and of the actions cannot swallow it. Outside the armed region (reading
the input, storing the plan in its transaction) nothing is ever raised: arming and
disarming hold a lock the monitor holds while it raises, and disarming withdraws an
exception not yet delivered. C-level work (one huge string operation) is not
interrupted; the template sandbox bounds it (domain/templates.py).

Planning in worker processes would also stop C-level work, at the cost of IPC on
every run; the thread approach is kept because the sandbox bounds the C work.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sophmate_desktop.engine.actions import plan_step as _plan_step
from sophmate_desktop.engine.actions.base import (
    ActionError,
    Cancelled,
    PlanContext,
    PlannedWrite,
)
from sophmate_desktop.engine.handles import InFlight, InFlightTable

DEFAULT_PLAN_TIMEOUT_S = 30.0
# A thread rendering a runaway template keeps the GIL for a whole switch interval each
# time another thread (the monitor, a pause, the window) gives it back after a database
# call: at CPython's 5 ms the fault trial's p99 from pause to cancelled was 164.5 ms,
# at 1 ms 15.0 ms (same machine, same run). Process-wide; only ever lowered.
SWITCH_INTERVAL_S = 0.001
PLAN_TIMEOUT_SETTING = "plan_timeout_s"
T = TypeVar("T")


class PlanStopped(BaseException):
    """Raised inside a planning thread by the monitor."""


class PlanTimedOut(ActionError):
    """Planning took longer than its limit."""


@dataclass
class _Armed:
    item: InFlight
    thread_id: int
    deadline: float
    limit_s: float
    fired: str | None = None  # "stop" | "timeout" once an exception was sent
    lock: threading.Lock = field(default_factory=threading.Lock)


class _TakenBack(BaseException):
    """Raised by a planning thread in itself to take back a stop it no longer needs."""


def _raise_in(thread_id: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc is not None else None
    )


def _take_back_stop() -> None:
    """Withdraw a stop sent to this thread and not yet delivered (or already delivered).

    `PyThreadState_SetAsyncExc(id, NULL)` would withdraw it but leaves the
    interpreter's pending-exception flag set (CPython 3.11): the eval breaker then
    trips at every check for the rest of the process, which slows every thread and
    makes code under `sys.setprofile` (a profiler, a debugger, a test) loop forever at
    its next function entry. Replacing the stop by an exception this thread catches at
    once clears the flag on delivery."""
    me = threading.get_ident()
    deadline = time.monotonic() + 0.05
    try:
        _raise_in(me, _TakenBack)
        while time.monotonic() < deadline:
            pass
    except _TakenBack:
        return
    _raise_in(me, None)  # never delivered: withdrawn, leaving the flag (the lesser harm)


class PlanGuard:
    """One per engine: the threads rendering templates now, by in-flight item."""

    def __init__(self, inflight: InFlightTable, limit_s: Callable[[PlanContext], float]) -> None:
        self._inflight = inflight
        self._limit_s = limit_s
        self._lock = threading.Lock()
        self._armed: dict[int, _Armed] = {}  # by thread id
        if sys.getswitchinterval() > SWITCH_INTERVAL_S:
            sys.setswitchinterval(SWITCH_INTERVAL_S)

    # The planning thread -------------------------------------------------

    def plan_step(self, step, ctx: PlanContext, index: int) -> list[PlannedWrite]:
        return self.armed(ctx, lambda: _plan_step(step, ctx, index))

    def armed(self, ctx: PlanContext, render: Callable[[], T]) -> T:
        """`render()` (planning of `ctx`'s run), stoppable by a pause or the time limit."""
        item = self._inflight.get("run", ctx.run_id)
        if item is None:  # a preview or a replan: not a run in flight
            return render()
        limit = self._limit_s(ctx)
        entry = _Armed(item, threading.get_ident(), item.started + limit, limit)
        try:
            self._arm(entry)
            try:
                planned = render()
            finally:
                fired = self._disarm(entry)
            if fired:
                raise PlanStopped
            return planned
        except PlanStopped:
            self._disarm(entry)  # delivered before disarming finished: idempotent
            raise self._why(entry) from None

    def _arm(self, entry: _Armed) -> None:
        with self._lock:
            self._armed[entry.thread_id] = entry
        if entry.item.cancelled.is_set():
            raise PlanStopped
        if time.monotonic() >= entry.deadline:
            entry.fired = "timeout"
            raise PlanStopped

    def _disarm(self, entry: _Armed) -> bool:
        """Nothing is raised in this thread after this; True if a stop was sent."""
        with self._lock:
            if self._armed.get(entry.thread_id) is not entry:
                return entry.fired is not None
            del self._armed[entry.thread_id]
            with entry.lock:
                fired = entry.fired is not None
            if fired:
                _take_back_stop()
        return fired

    def _why(self, entry: _Armed) -> BaseException:
        if entry.fired == "timeout" and not entry.item.cancelled.is_set():
            return PlanTimedOut(
                f"planning took longer than the limit of {entry.limit_s:g} s "
                "(plan_timeout_s); the run was stopped"
            )
        return Cancelled(entry.item.reason or "stopped by a kill switch")

    # The monitor ----------------------------------------------------------

    def stop(self, item: InFlight) -> bool:
        """End `item`'s planning now if it is rendering; True if an exception was sent."""
        return self._fire(lambda e: e.item is item, "stop") > 0

    def enforce_deadlines(self, now: float | None = None) -> int:
        """Stop every plan past its time limit; how many were stopped."""
        now = time.monotonic() if now is None else now
        return self._fire(lambda e: now >= e.deadline, "timeout")

    def _fire(self, which: Callable[[_Armed], bool], why: str) -> int:
        sent = 0
        with self._lock:
            for entry in list(self._armed.values()):
                if not which(entry):
                    continue
                with entry.lock:
                    if entry.fired is not None:
                        continue
                    entry.fired = why
                _raise_in(entry.thread_id, PlanStopped)
                sent += 1
        return sent

    def rendering(self) -> int:
        with self._lock:
            return len(self._armed)


_bound = threading.local()


def bind_thread(guard: PlanGuard) -> None:
    """This thread plans for `guard`'s engine (called when an engine thread starts)."""
    _bound.guard = guard


def guarded_plan_step(step, ctx: PlanContext, index: int) -> list[PlannedWrite]:
    """`plan_step`, stoppable by the engine the calling thread belongs to."""
    guard: PlanGuard | None = getattr(_bound, "guard", None)
    if guard is None:
        return _plan_step(step, ctx, index)
    return guard.plan_step(step, ctx, index)
