"""Claiming slots (store/schedules.py through intake.record_batch): once per
(workflow, slot) on SQLite and PostgreSQL, the audit event in the same transaction,
skipped slots recorded, a paused workflow's slot held."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.store.models import AuditEvent, Run, ScheduleSlot, ScheduleState, Workflow
from sophmate_desktop.store.schedules import Slot, schedule_states, slot_of_run, start_schedule
from sophmate_desktop.store.transitions.intake import Offer, record_batch
from tests.support.schedules import scheduled_doc

D = dt.datetime
KEY = "cron:0 7 * * *@UTC"


def slot(day: int, **kw) -> Slot:
    return Slot(D(2026, 1, day, 7), KEY, D(2026, 1, day + 1, 7), **kw)


def offer(s: Slot) -> Offer:
    return Offer("daily", "schedule", slot=s)


def setup(console, tmp_path: Path) -> int:
    console.import_workflow(scheduled_doc("daily", tmp_path, cron="0 7 * * *"))
    console.enable_workflow("daily")
    return Workflow.get(Workflow.name == "daily").id


def test_a_slot_is_claimed_once(db, console, tmp_path: Path) -> None:
    wf_id = setup(console, tmp_path)
    first = record_batch(db, [offer(slot(5))], "engine-a")
    again = record_batch(db, [offer(slot(5))], "engine-b")
    assert len(first) == 1 and again == []
    run = Run.get_by_id(first[0].run_id)
    assert run.trigger_kind == "schedule"
    row = slot_of_run(db, run.id)
    assert (row.slot_at, row.outcome, row.claimed_by) == (D(2026, 1, 5, 7), "run", "engine-a")
    queued = AuditEvent.get(AuditEvent.action == "run.queued", AuditEvent.run == run.id)
    assert queued.details["slot_at"] == "2026-01-05T07:00:00"
    assert queued.details["catch_up"] is False
    assert schedule_states(db)["daily"] == (KEY, D(2026, 1, 6, 7))
    assert ScheduleState.get_by_id(wf_id).next_slot_at == D(2026, 1, 6, 7)


def test_a_slot_before_the_stored_next_slot_is_decided(db, console, tmp_path: Path) -> None:
    setup(console, tmp_path)
    assert len(record_batch(db, [offer(slot(9))], "a")) == 1
    # an engine that still thinks day 6 is due (its memory is stale) starts nothing
    assert record_batch(db, [offer(slot(6))], "b") == []
    assert ScheduleSlot.select().count() == 1


def test_catch_up_and_skip_are_recorded(db, console, tmp_path: Path) -> None:
    setup(console, tmp_path)
    [rec] = record_batch(db, [offer(slot(8, catch_up=True, passed=2))], "a")
    event = AuditEvent.get(AuditEvent.action == "run.queued", AuditEvent.run == rec.run_id)
    assert event.details["catch_up"] is True and event.details["missed_not_run"] == 2
    assert record_batch(db, [offer(slot(12, skip=True, passed=3))], "a") == []
    skipped = ScheduleSlot.get(ScheduleSlot.slot_at == D(2026, 1, 12, 7))
    assert (skipped.outcome, skipped.run_id) == ("skipped", None)
    event = AuditEvent.get(AuditEvent.action == AuditAction.SCHEDULE_SKIPPED.value)
    assert event.workflow == "daily" and event.details["missed_not_run"] == 4
    assert Run.select().count() == 1


def test_a_paused_workflows_slot_is_held(db, console, tmp_path: Path) -> None:
    setup(console, tmp_path)
    console.pause_category("ops", "maintenance window")
    [rec] = record_batch(db, [offer(slot(5))], "a")
    assert rec.status == "held"
    assert slot_of_run(db, rec.run_id).slot_at == D(2026, 1, 5, 7)


def test_start_schedule_keeps_progress_until_the_schedule_changes(
    db, console, tmp_path: Path
) -> None:
    setup(console, tmp_path)
    start_schedule(db, Workflow.get().id, KEY, D(2026, 1, 1, 7), D(2026, 1, 1))
    record_batch(db, [offer(slot(3))], "a")
    start_schedule(db, Workflow.get().id, KEY, D(2026, 1, 1, 7), D(2026, 1, 1))
    assert schedule_states(db)["daily"] == (KEY, D(2026, 1, 4, 7))
    start_schedule(db, Workflow.get().id, "interval:60", D(2026, 2, 1), D(2026, 1, 1))
    assert schedule_states(db)["daily"] == ("interval:60", D(2026, 2, 1))
