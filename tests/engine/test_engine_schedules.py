"""The scheduler in the engine with a clock the test moves: slots survive restarts,
catch-up after a 3-day sleep (latest, none, all), DST, and a paused slot held."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from sophmate_desktop.domain.schedule import CATCH_UP_ALL_LIMIT
from sophmate_desktop.store.models import AuditEvent, Run, ScheduleSlot
from tests.support.engine import wait_until
from tests.support.schedules import scheduled_doc

D = dt.datetime


class Clock:
    """A settable naive-UTC clock shared by the engine's scheduler and the test."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return self.at

    def set(self, at: dt.datetime, engine) -> None:
        with self._lock:
            self.at = at
        engine.triggers.scheduler.wake()


def scheduled(console, tmp_path: Path, name: str = "hourly", **trigger) -> None:
    console.import_workflow(scheduled_doc(name, tmp_path, **trigger))
    console.enable_workflow(name)


def next_slot(engine, name: str = "hourly") -> dt.datetime | None:
    return engine.triggers.scheduler.next_slots().get(name)


def slot_runs() -> list[tuple[dt.datetime, str, bool]]:
    rows = ScheduleSlot.select().order_by(ScheduleSlot.slot_at)
    out = []
    for row in rows:
        queued = AuditEvent.get_or_none(
            AuditEvent.action.in_(["run.queued", "run.held"]), AuditEvent.run == row.run_id
        )
        out.append((row.slot_at, row.outcome, bool(queued and queued.details["catch_up"])))
    return out


def start_then_sleep_three_days(make_engine, db, console, tmp_path, catch_up, cron):
    scheduled(console, tmp_path, cron=cron, catch_up=catch_up)
    clock = Clock(D(2026, 1, 5, 9, 30))
    first = make_engine(db, console, watch=False, clock=clock)
    wait_until(lambda: next_slot(first), 10, "the schedule to be loaded")
    first.stop()  # the app is closed, the machine sleeps for three days
    clock.at = D(2026, 1, 8, 9, 31)
    return make_engine(db, console, watch=False, clock=clock), clock


def test_catch_up_latest_runs_once_for_the_newest_missed_slot(
    make_engine, db, console, tmp_path
) -> None:
    engine, clock = start_then_sleep_three_days(
        make_engine, db, console, tmp_path, "latest", "0 * * * *"
    )
    wait_until(lambda: Run.select().count() == 1, 20, "one catch-up run")
    assert slot_runs() == [(D(2026, 1, 8, 9), "catch_up", True)]
    event = AuditEvent.get(AuditEvent.action == "run.queued")
    assert event.details["missed_not_run"] == 3 * 24 - 1
    assert next_slot(engine) == D(2026, 1, 8, 10)
    clock.set(D(2026, 1, 8, 10, 0, 1), engine)
    wait_until(lambda: Run.select().count() == 2, 20, "the on-time run")
    assert slot_runs()[-1] == (D(2026, 1, 8, 10), "run", False)


def test_catch_up_none_skips_and_records_it(make_engine, db, console, tmp_path) -> None:
    engine, clock = start_then_sleep_three_days(
        make_engine, db, console, tmp_path, "none", "0 * * * *"
    )
    wait_until(lambda: ScheduleSlot.select().count() == 1, 20, "the skipped slot recorded")
    assert slot_runs() == [(D(2026, 1, 8, 9), "skipped", False)]
    assert Run.select().count() == 0
    skipped = AuditEvent.get(AuditEvent.action == "schedule.skipped")
    assert skipped.details["missed_not_run"] == 3 * 24
    clock.set(D(2026, 1, 8, 10, 0, 1), engine)
    wait_until(lambda: Run.select().count() == 1, 20, "the on-time run")


def test_catch_up_all_runs_each_up_to_the_bound(make_engine, db, console, tmp_path) -> None:
    start_then_sleep_three_days(make_engine, db, console, tmp_path, "all", "*/30 * * * *")
    missed = 3 * 48  # 10:00 on the 5th .. 09:30 on the 8th
    wait_until(
        lambda: Run.select().count() == CATCH_UP_ALL_LIMIT, 60, "the newest missed slots run"
    )
    slots = slot_runs()
    assert [s[0] for s in slots] == [
        D(2026, 1, 8, 9, 30) - dt.timedelta(minutes=30 * i) for i in range(CATCH_UP_ALL_LIMIT)
    ][::-1]
    assert all(outcome == "catch_up" and cu for _, outcome, cu in slots)
    first = AuditEvent.select().where(AuditEvent.action == "run.queued").order_by(AuditEvent.id)
    assert first.first().details["missed_not_run"] == missed - CATCH_UP_ALL_LIMIT


def test_a_restart_does_not_restart_an_interval(make_engine, db, console, tmp_path) -> None:
    scheduled(console, tmp_path, interval_s=3600)
    clock = Clock(D(2026, 1, 5, 9, 59, 59))
    engine = make_engine(db, console, watch=False, clock=clock)
    wait_until(lambda: next_slot(engine) == D(2026, 1, 5, 10), 10, "the next slot")
    engine.stop()
    clock.at = D(2026, 1, 5, 10, 0, 2)  # restarted just after the slot
    engine = make_engine(db, console, watch=False, clock=clock)
    wait_until(lambda: Run.select().count() == 1, 20, "the slot's run")
    assert slot_runs() == [(D(2026, 1, 5, 10), "run", False)]


def test_enabling_again_starts_after_now_without_catching_up(
    make_engine, db, console, tmp_path
) -> None:
    scheduled(console, tmp_path, cron="0 * * * *", catch_up="latest")
    clock = Clock(D(2026, 1, 5, 9, 30))
    engine = make_engine(db, console, watch=False, clock=clock)
    wait_until(lambda: next_slot(engine) == D(2026, 1, 5, 10), 10, "the schedule loaded")
    console.disable_workflow("hourly", reason="holiday")
    engine.wake()
    wait_until(lambda: next_slot(engine) is None, 10, "the disabled schedule dropped")
    clock.set(D(2026, 1, 8, 9, 30), engine)  # three days disabled
    console.enable_workflow("hourly")
    engine.wake()
    wait_until(lambda: next_slot(engine) == D(2026, 1, 8, 10), 10, "the schedule from now")
    assert Run.select().count() == 0  # the disabled days were not wanted, not missed
    assert ScheduleSlot.select().count() == 0
    clock.set(D(2026, 1, 8, 10, 0, 1), engine)
    wait_until(lambda: Run.select().count() == 1, 20, "the next slot's run")
    assert slot_runs() == [(D(2026, 1, 8, 10), "run", False)]


def test_dst_spring_forward_skips_the_missing_wall_time(make_engine, db, console, tmp_path):
    scheduled(console, tmp_path, cron="30 2 * * *", timezone="Europe/Berlin")
    clock = Clock(D(2026, 3, 28, 12))
    engine = make_engine(db, console, watch=False, clock=clock)
    wait_until(lambda: next_slot(engine) == D(2026, 3, 30, 0, 30), 10, "the slot after the gap")
    clock.set(D(2026, 3, 30, 0, 30, 1), engine)
    wait_until(lambda: Run.select().count() == 1, 20, "the run of 30 March")
    assert slot_runs() == [(D(2026, 3, 30, 0, 30), "run", False)]


def test_dst_fall_back_fires_the_repeated_time_once(make_engine, db, console, tmp_path):
    scheduled(console, tmp_path, cron="30 2 * * *", timezone="Europe/Berlin")
    clock = Clock(D(2026, 10, 25, 0, 0))
    engine = make_engine(db, console, watch=False, clock=clock)
    wait_until(lambda: next_slot(engine) == D(2026, 10, 25, 0, 30), 10, "the first 02:30")
    clock.set(D(2026, 10, 25, 0, 30, 1), engine)
    wait_until(lambda: Run.select().count() == 1, 20, "the 02:30 CEST run")
    clock.set(D(2026, 10, 25, 1, 30, 1), engine)  # 02:30 CET: the same wall time again
    wait_until(lambda: next_slot(engine) == D(2026, 10, 26, 1, 30), 10, "the next day's slot")
    assert Run.select().count() == 1


@pytest.mark.parametrize("discard", [False, True])
def test_a_slot_while_paused_is_held(make_engine, db, console, tmp_path, discard) -> None:
    scheduled(console, tmp_path, cron="0 7 * * mon-fri", timezone="Europe/Berlin")
    clock = Clock(D(2026, 1, 5, 5))
    engine = make_engine(db, console, watch=False, clock=clock)
    wait_until(lambda: next_slot(engine) == D(2026, 1, 5, 6), 10, "Monday 07:00 CET")
    console.pause_category("ops", "maintenance window")
    clock.set(D(2026, 1, 5, 6, 0, 1), engine)
    held = wait_until(lambda: console.list_held(), 20, "a held run")
    assert [r.id for r in held] == [ScheduleSlot.get().run_id]
    console.resume_category("ops", "done", held="discard" if discard else "replay")
    if discard:
        assert Run.get_by_id(held[0].id).status == "cancelled"
    else:
        assert engine.wait_for_run(held[0].id, 30) not in ("held", "queued", "running")
