"""Cron and interval slots (domain/schedule.py): DST gaps and repeats, catch-up counts,
and the workflow-file validation of cron, timezone and catch_up."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sophmate_desktop.domain.schedule import (
    COUNT_LIMIT,
    describe,
    newest_slots,
    next_slot,
    slots_between,
)
from sophmate_desktop.domain.workflow import TriggerSpec
from sophmate_desktop.domain.workflow_file import WorkflowFileError, parse_workflow_yaml

D = dt.datetime
BERLIN = "Europe/Berlin"


def cron(expr: str, zone: str | None = BERLIN) -> TriggerSpec:
    return TriggerSpec(cron=expr, timezone=zone)


def test_weekday_mornings_in_berlin_are_utc_slots() -> None:
    # Mon 2026-01-05 .. Sun 2026-01-11: five runs at 07:00 CET = 06:00 UTC
    slots = slots_between(cron("0 7 * * mon-fri"), D(2026, 1, 4), D(2026, 1, 11, 23))
    assert slots == [D(2026, 1, d, 6) for d in range(5, 10)]


@pytest.mark.parametrize(
    ("expr", "after", "until", "expected"),
    [
        # spring forward 2026-03-29: 02:00 -> 03:00 local; 02:30 does not exist that day
        ("30 2 * * *", D(2026, 3, 27, 12), D(2026, 3, 30, 12),
         [D(2026, 3, 28, 1, 30), D(2026, 3, 30, 0, 30)]),
        # hourly across the gap: 01:00 CET, then 03:00 CEST (one hour of real time later)
        ("0 * * * *", D(2026, 3, 29, 0, 30), D(2026, 3, 29, 1, 30),
         [D(2026, 3, 29, 1, 0)]),
        # fall back 2026-10-25: 02:30 happens twice; it fires once, at the first (CEST)
        ("30 2 * * *", D(2026, 10, 24, 12), D(2026, 10, 26, 12),
         [D(2026, 10, 25, 0, 30), D(2026, 10, 26, 1, 30)]),
        # every 30 minutes through the repeated hour: each wall time once
        ("*/30 * * * *", D(2026, 10, 24, 23, 45), D(2026, 10, 25, 2, 10),
         [D(2026, 10, 25, 0, 0), D(2026, 10, 25, 0, 30), D(2026, 10, 25, 2, 0)]),
        # a day's 07:00 stays 07:00 local: 06:00 UTC in winter, 05:00 UTC in summer
        ("0 7 * * *", D(2026, 3, 28, 12), D(2026, 3, 30, 12),
         [D(2026, 3, 29, 5), D(2026, 3, 30, 5)]),
    ],
)  # fmt: skip
def test_dst_table(expr: str, after: D, until: D, expected: list[D]) -> None:
    assert slots_between(cron(expr), after, until) == expected


def test_seconds_field_is_last_as_croniter_reads_it() -> None:
    slots = slots_between(cron("* * * * * */20", None), D(2026, 1, 1), D(2026, 1, 1, 0, 1))
    assert slots == [D(2026, 1, 1, 0, 0, 20), D(2026, 1, 1, 0, 0, 40), D(2026, 1, 1, 0, 1)]


def test_interval_slots_are_multiples_since_the_epoch() -> None:
    trig = TriggerSpec(interval_s=3600)
    assert slots_between(trig, D(2026, 1, 1, 0, 0), D(2026, 1, 1, 2, 30)) == [
        D(2026, 1, 1, 1), D(2026, 1, 1, 2)
    ]
    assert next_slot(trig, D(2026, 1, 1, 0, 59, 59)) == D(2026, 1, 1, 1)


def test_newest_slots_after_three_days_of_seconds() -> None:
    trig = cron("* * * * * *", None)
    after, until = D(2026, 1, 1), D(2026, 1, 4)
    newest, older = newest_slots(trig, after, until, 3)
    assert newest == [until - dt.timedelta(seconds=s) for s in (2, 1, 0)]
    assert older == COUNT_LIMIT  # older cron slots are counted up to the limit, not walked
    newest, older = newest_slots(TriggerSpec(interval_s=1), after, until, 100)
    assert len(newest) == 100 and older == 3 * 86400 - 100
    assert newest_slots(trig, until, until, 5) == ([], 0)
    assert newest_slots(trig, until - dt.timedelta(seconds=10), until, 4)[1] == 6


ZONES = st.sampled_from([BERLIN, "America/New_York", "Australia/Lord_Howe", "UTC"])
EXPRS = st.sampled_from(["*/7 * * * *", "30 2 * * *", "0 * * * *", "15,45 1-3 * * sun"])


@settings(max_examples=60, deadline=None)
@given(
    ZONES,
    EXPRS,
    st.datetimes(min_value=D(2025, 1, 1), max_value=D(2027, 1, 1)),
    st.integers(1, 72),
)
def test_slots_are_increasing_unique_and_real_local_times(
    zone: str, expr: str, after: D, hours: int
) -> None:
    from zoneinfo import ZoneInfo

    trig = cron(expr, zone)
    until = after + dt.timedelta(hours=hours)
    slots = slots_between(trig, after, until)
    assert slots == sorted(set(slots))
    assert all(after < s <= until for s in slots)
    for s in slots:
        local = s.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone))
        back = local.replace(tzinfo=None).replace(tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)
        assert back.replace(tzinfo=None) == s  # the first occurrence of its wall time
    # walking backwards finds the same newest slots
    newest, older = newest_slots(trig, after, until, 3)
    assert newest == slots[-3:] and older == max(0, len(slots) - 3)


def test_describe_reads_the_expression() -> None:
    assert describe(cron("0 7 * * mon-fri")) == "At 07:00, Monday through Friday (Europe/Berlin)"
    assert describe(TriggerSpec(interval_s=60)) == "every 60 s"
    assert "second" in describe(cron("* * * * * *", None)).lower()


HEAD = "name: s\ncategory: c\nsteps:\n  - {action: write_file, to: /tmp/x, content: x}\n"


def errors(trigger: str) -> list[str]:
    with pytest.raises(WorkflowFileError) as info:
        parse_workflow_yaml(HEAD + "trigger: " + trigger + "\n")
    return [str(e) for e in info.value.errors]


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ("{cron: '0 7 * *'}", "trigger.cron: expected 5 fields (or 6 with seconds), got 4"),
        ("{cron: '0 25 * * *'}", "trigger.cron: not a cron expression: '0 25 * * *'"),
        ("{cron: '0 7 * * funday'}", "trigger.cron: not a cron expression"),
        ("{cron: 7}", "trigger.cron: expected cron expression, got a number (7)"),
        ("{cron: '0 7 * * *', timezone: Mars/Olympus}",
         "trigger.timezone: unknown time zone 'Mars/Olympus'"),
        ("{cron: '0 7 * * *', catch_up: some}", "trigger.catch_up: expected one of latest, none"),
        ("{cron: '0 7 * * *', interval_s: 60}", "trigger: has both cron and interval_s"),
        ("{folder: in, timezone: UTC}", "trigger.timezone: applies to a cron schedule only"),
        ("{folder: in, catch_up: all}", "trigger.catch_up: applies to a schedule"),
    ],
)  # fmt: skip
def test_bad_schedules_are_named(trigger: str, expected: str) -> None:
    found = errors(trigger)
    assert any(expected in e for e in found), found


def test_good_schedule_round_trips() -> None:
    from sophmate_desktop.domain.workflow_file import definition_to_dict

    text = HEAD + "trigger: {cron: '0 7 * * mon-fri', timezone: Europe/Berlin, catch_up: all}\n"
    defn = parse_workflow_yaml(text)
    assert (defn.trigger.cron, defn.trigger.timezone, defn.trigger.catch_up) == (
        "0 7 * * mon-fri", BERLIN, "all"
    )
    trig = definition_to_dict(defn)["trigger"]
    assert trig["cron"] == "0 7 * * mon-fri" and "interval_s" not in trig
