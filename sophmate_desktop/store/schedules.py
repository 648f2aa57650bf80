"""Claimed slots of time triggers and each scheduled workflow's next slot.

A slot is claimed by inserting its (workflow, slot_at) row, in the transaction that
records its run (store/transitions/intake.py); a second engine's insert of the same
slot conflicts and records nothing. A slot before the workflow's stored next slot is
already decided (run, caught up or skipped) and is not claimed again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from peewee import EXCLUDED, Database

from sophmate_desktop.store.models import ScheduleSlot, ScheduleState, Workflow
from sophmate_desktop.store.sql import RawInsert, queued_transaction

_SLOT_INSERT = RawInsert(ScheduleSlot, ignore_conflicts=True)


@dataclass(frozen=True)
class Slot:
    """What a schedule offer claims: one slot of a workflow's time trigger."""

    at: dt.datetime  # the slot's time, naive UTC
    schedule: str  # domain.schedule.schedule_key of the trigger it belongs to
    next_at: dt.datetime  # the workflow's next slot once this one is decided
    catch_up: bool = False  # a run for slots missed while no engine ran
    skip: bool = False  # catch_up: none, recorded as skipped without a run
    passed: int = 0  # older missed slots this one stands for, not run

    @property
    def outcome(self) -> str:
        return "skipped" if self.skip else "catch_up" if self.catch_up else "run"

    def details(self) -> dict[str, Any]:
        return {
            "slot_at": self.at.isoformat(timespec="seconds"),
            "catch_up": self.catch_up,
            "missed_not_run": self.passed,
        }


def claim_slot(
    db: Database, cursor: Any, workflow_id: int, slot: Slot, host: str, now: dt.datetime
) -> bool:
    """Insert the slot's row and move the workflow's next slot past it; False (and
    nothing written) when it is decided already, by this or another engine."""
    state = (
        ScheduleState.select(ScheduleState.schedule, ScheduleState.next_slot_at)
        .where(ScheduleState.workflow == workflow_id)
        .tuples()
        .first()
    )
    if state is not None and state[0] == slot.schedule and state[1] > slot.at:
        return False
    row = dict(
        workflow=workflow_id, slot_at=slot.at, outcome=slot.outcome, claimed_by=host, at=now
    )
    if not _SLOT_INSERT.insert_counted(db, cursor, row):
        return False
    _advance(workflow_id, slot.schedule, slot.next_at, now)
    return True


def link_run(workflow_id: int, slot_at: dt.datetime, run_id: int) -> None:
    ScheduleSlot.update(run_id=run_id).where(
        ScheduleSlot.workflow == workflow_id, ScheduleSlot.slot_at == slot_at
    ).execute()


def _advance(workflow_id: int, schedule: str, next_at: dt.datetime, now: dt.datetime) -> None:
    ScheduleState.insert(
        workflow=workflow_id, schedule=schedule, next_slot_at=next_at, updated_at=now
    ).on_conflict(
        conflict_target=[ScheduleState.workflow],
        update={
            ScheduleState.schedule: EXCLUDED.schedule,
            ScheduleState.next_slot_at: EXCLUDED.next_slot_at,
            ScheduleState.updated_at: EXCLUDED.updated_at,
        },
        where=(ScheduleState.schedule != EXCLUDED.schedule)
        | (ScheduleState.next_slot_at < EXCLUDED.next_slot_at),
    ).execute()


def start_schedule(
    db: Database, workflow_id: int, schedule: str, next_at: dt.datetime, now: dt.datetime
) -> None:
    """A schedule seen for the first time (or changed): its first slot to consider. Only
    written when the workflow has no state for this schedule, so a restart never resets
    it (the first engine to look decides it for all)."""
    with queued_transaction(db):
        state = ScheduleState.get_or_none(ScheduleState.workflow == workflow_id)
        if state is not None and state.schedule == schedule:
            return
        ScheduleState.insert(
            workflow=workflow_id, schedule=schedule, next_slot_at=next_at, updated_at=now
        ).on_conflict(
            conflict_target=[ScheduleState.workflow],
            update={
                ScheduleState.schedule: schedule,
                ScheduleState.next_slot_at: next_at,
                ScheduleState.updated_at: now,
            },
            where=ScheduleState.schedule != schedule,
        ).execute()


def schedule_states(db: Database) -> dict[str, tuple[str, dt.datetime]]:
    """{workflow name: (schedule key, next slot)} of every workflow with a schedule state."""
    rows = (
        ScheduleState.select(Workflow.name, ScheduleState.schedule, ScheduleState.next_slot_at)
        .join(Workflow)
        .tuples()
    )
    return {name: (key, at) for name, key, at in rows}


def slot_of_run(db: Database, run_id: int) -> ScheduleSlot | None:
    """The slot a run serves (None: not a scheduled run)."""
    return ScheduleSlot.get_or_none(ScheduleSlot.run_id == run_id)


def forget_schedule(workflow_id: int) -> None:
    """A workflow enabled again starts its schedule from its next slot after now: the
    slots that fell while it was disabled were not missed, they were not wanted. (Its
    claimed slots stay: they are history, and they still stop a slot running twice.)"""
    ScheduleState.delete().where(ScheduleState.workflow == workflow_id).execute()
