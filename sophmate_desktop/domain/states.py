"""Transition tables of the run, write and workflow-stage state machines (DESIGN.md 3).

Each table maps a state to the states it may move to; terminal states map to an
empty set. `None` stands for "no record yet" (creation). The store applies every
move as a conditional update (`WHERE status = old`) after `check_*` accepts it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

from sophmate_desktop.domain.enums import RunStatus, Stage, WriteStatus
from sophmate_desktop.domain.errors import IllegalTransition

_R = RunStatus
_W = WriteStatus

RUN_TRANSITIONS: Mapping[RunStatus | None, frozenset[RunStatus]] = MappingProxyType(
    {
        None: frozenset({_R.QUEUED, _R.HELD}),
        _R.QUEUED: frozenset({_R.RUNNING, _R.HELD, _R.CANCELLED}),
        _R.HELD: frozenset({_R.QUEUED, _R.CANCELLED}),  # replay | discard
        _R.RUNNING: frozenset(
            {
                _R.AWAITING_APPROVAL,
                _R.APPLYING,
                _R.SUCCEEDED,
                _R.FAILED,
                _R.CANCELLED,
                _R.QUEUED,  # retry after backoff
            }
        ),
        _R.AWAITING_APPROVAL: frozenset(
            {_R.APPLYING, _R.SUCCEEDED, _R.FAILED, _R.REJECTED, _R.CANCELLED}
        ),
        _R.APPLYING: frozenset({_R.AWAITING_APPROVAL, _R.SUCCEEDED, _R.FAILED, _R.CANCELLED}),
        _R.FAILED: frozenset({_R.QUEUED}),  # manual retry
        _R.SUCCEEDED: frozenset(),
        _R.REJECTED: frozenset(),
        _R.CANCELLED: frozenset(),
    }
)

WRITE_TRANSITIONS: Mapping[WriteStatus | None, frozenset[WriteStatus]] = MappingProxyType(
    {
        None: frozenset({_W.PLANNED, _W.PENDING, _W.APPROVED}),  # approved: gate let it pass
        _W.PENDING: frozenset({_W.APPROVED, _W.REJECTED, _W.CANCELLED, _W.EXPIRED}),
        _W.APPROVED: frozenset({_W.APPLYING, _W.CANCELLED}),
        _W.APPLYING: frozenset(
            {
                _W.APPLIED,
                _W.FAILED,
                _W.INTERRUPTED,
                _W.APPROVED,  # an idempotent write whose apply was cut short goes back
                _W.STALE,  # its target changed since the preview: planned again
            }
        ),
        # An interrupted write never moves on its own: a person marks it applied,
        # retries it (back to approved) or cancels it.
        _W.INTERRUPTED: frozenset({_W.APPLIED, _W.APPROVED, _W.CANCELLED}),
        _W.FAILED: frozenset({_W.APPROVED, _W.CANCELLED}),
        _W.PLANNED: frozenset(),
        _W.APPLIED: frozenset(),
        _W.REJECTED: frozenset(),
        _W.CANCELLED: frozenset(),
        _W.EXPIRED: frozenset(),
        _W.STALE: frozenset(),  # its replacement, a new pending write, carries on
    }
)

STAGE_TRANSITIONS: Mapping[Stage, frozenset[Stage]] = MappingProxyType(
    {
        Stage.DRY_RUN: frozenset({Stage.STAGING}),
        Stage.STAGING: frozenset({Stage.PRODUCTION, Stage.DRY_RUN}),
        Stage.PRODUCTION: frozenset({Stage.STAGING, Stage.DRY_RUN}),  # demotion
    }
)

TERMINAL_RUN_STATUSES: frozenset[RunStatus] = frozenset(
    s for s, nxt in RUN_TRANSITIONS.items() if s is not None and not nxt
)
TERMINAL_WRITE_STATUSES: frozenset[WriteStatus] = frozenset(
    s for s, nxt in WRITE_TRANSITIONS.items() if s is not None and not nxt
)

# Writes in these states keep their run open: someone or something still has to act.
RUN_OPEN_WRITE_STATUSES: frozenset[WriteStatus] = frozenset(
    {_W.PENDING, _W.APPROVED, _W.APPLYING, _W.INTERRUPTED}
)

_E = TypeVar("_E", bound=StrEnum)


def _coerce(enum: type[_E], value: object) -> _E | None:
    """The enum member for `value` (a member or its stored string), None if unknown."""
    if value is None:
        return None
    try:
        return enum(value)
    except ValueError:
        return None


def _check(
    machine: str,
    enum: type[_E],
    table: Mapping[Any, frozenset[_E]],
    old: _E | str | None,
    new: _E | str,
) -> _E:
    old_member = _coerce(enum, old)
    new_member = _coerce(enum, new)
    known_old = old is None or old_member is not None
    if not known_old or new_member is None or new_member not in table.get(old_member, ()):
        raise IllegalTransition(machine, None if old is None else str(old), str(new))
    return new_member


def check_run(old: RunStatus | str | None, new: RunStatus | str) -> RunStatus:
    """Return `new` as a RunStatus if a run may move from `old` to it, else raise."""
    return _check("run", RunStatus, RUN_TRANSITIONS, old, new)


def check_write(old: WriteStatus | str | None, new: WriteStatus | str) -> WriteStatus:
    """Return `new` as a WriteStatus if a write may move from `old` to it, else raise."""
    return _check("write", WriteStatus, WRITE_TRANSITIONS, old, new)


def check_stage(old: Stage | str, new: Stage | str) -> Stage:
    """Return `new` as a Stage if a workflow may move from stage `old` to it, else raise."""
    return _check("stage", Stage, STAGE_TRANSITIONS, old, new)


def is_terminal_run(status: RunStatus | str) -> bool:
    return _coerce(RunStatus, status) in TERMINAL_RUN_STATUSES


def is_terminal_write(status: WriteStatus | str) -> bool:
    return _coerce(WriteStatus, status) in TERMINAL_WRITE_STATUSES


def run_outcome(write_statuses: Iterable[WriteStatus | str]) -> RunStatus | None:
    """The final status of a run given its writes, or None while any write is open.

    - failed if any write failed;
    - rejected if at least one write was decided by a person and every decided write
      was rejected (cancelled and expired writes were not decided by anyone);
    - cancelled if there were writes and none was decided (all cancelled or expired);
    - succeeded otherwise, also for a run that produced no writes at all.

    A stale write was replaced by a new write of the same run and does not count.
    """
    statuses = [WriteStatus(s) for s in write_statuses if s != WriteStatus.STALE]
    if any(s in RUN_OPEN_WRITE_STATUSES for s in statuses):
        return None
    if WriteStatus.FAILED in statuses:
        return RunStatus.FAILED
    undecided = {WriteStatus.CANCELLED, WriteStatus.EXPIRED}
    decided = [s for s in statuses if s not in undecided]
    if decided and all(s is WriteStatus.REJECTED for s in decided):
        return RunStatus.REJECTED
    if statuses and not decided:
        return RunStatus.CANCELLED
    return RunStatus.SUCCEEDED
