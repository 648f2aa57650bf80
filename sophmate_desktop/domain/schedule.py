"""Time triggers: the slots a `cron` or `interval_s` trigger fires at, in UTC.

Pure: no database, no Qt. Times are naive UTC datetimes (domain/clock.py). A cron
expression is read by croniter in the trigger's time zone, on local wall-clock times:
a wall time that does not exist that day (spring forward) has no slot, one that exists
twice (fall back) has one slot, at its first occurrence. An interval trigger's slots are
the multiples of interval_s since the Unix epoch, so every engine agrees on them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from sophmate_desktop.domain.workflow import TriggerSpec

CATCH_UP = ("latest", "none", "all")
CATCH_UP_DEFAULT = "latest"
CATCH_UP_ALL_LIMIT = 100  # catch_up: all runs at most this many missed slots (the newest)
COUNT_LIMIT = 10_000  # missed cron slots are counted up to this (walking them costs)
_EPOCH = dt.datetime(1970, 1, 1)
_UTC = dt.UTC


def cron_problem(expression: str) -> str | None:
    """Why a cron expression cannot be used (None: it can): 5 fields, or 6 with seconds."""
    fields = expression.split()
    if len(fields) not in (5, 6):
        return f"expected 5 fields (or 6 with seconds), got {len(fields)} in {expression!r}"
    try:
        croniter(expression, dt.datetime(2000, 1, 1))
    except (ValueError, KeyError) as exc:
        return f"not a cron expression: {expression!r} ({exc})"
    return None


def zone_problem(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)"
    return None


def is_scheduled(trigger: TriggerSpec | None) -> bool:
    return trigger is not None and bool(trigger.cron or trigger.interval_s)


def schedule_key(trigger: TriggerSpec) -> str:
    """What the slots depend on: when it changes, stored progress no longer applies."""
    if trigger.cron:
        return f"cron:{trigger.cron}@{trigger.timezone or 'UTC'}"
    return f"interval:{trigger.interval_s}"


def catch_up_of(trigger: TriggerSpec) -> str:
    return trigger.catch_up or CATCH_UP_DEFAULT


def iter_slots(trigger: TriggerSpec, after: dt.datetime) -> Iterator[dt.datetime]:
    """Slots strictly after `after` (naive UTC), in order, without end."""
    if trigger.cron:
        yield from _cron_slots(trigger.cron, ZoneInfo(trigger.timezone or "UTC"), after)
    elif trigger.interval_s:
        step = int(trigger.interval_s)
        n = int((after - _EPOCH).total_seconds() // step) + 1
        while True:
            yield _EPOCH + dt.timedelta(seconds=n * step)
            n += 1
    else:
        raise ValueError("the trigger has no schedule (neither cron nor interval_s)")


def slots_between(
    trigger: TriggerSpec, after: dt.datetime, until: dt.datetime, limit: int | None = None
) -> list[dt.datetime]:
    """The slots s with after < s <= until (naive UTC), oldest first; with `limit`, the
    first `limit` of them."""
    out: list[dt.datetime] = []
    for slot in iter_slots(trigger, after):
        if slot > until or (limit is not None and len(out) >= limit):
            break
        out.append(slot)
    return out


def next_slot(trigger: TriggerSpec, after: dt.datetime) -> dt.datetime:
    return next(iter_slots(trigger, after))


def newest_slots(
    trigger: TriggerSpec, after: dt.datetime, until: dt.datetime, count: int
) -> tuple[list[dt.datetime], int]:
    """The newest `count` slots in (after, until], oldest first, and how many older ones
    there were. Walks backwards from `until`, so three days of one-second slots cost
    `count` steps; older interval slots are counted exactly, older cron slots up to
    COUNT_LIMIT."""
    newest: list[dt.datetime] = []
    for slot in _slots_before(trigger, until):
        if slot <= after or len(newest) >= count:
            break
        newest.append(slot)
    newest.reverse()
    if len(newest) < count or not newest:
        return newest, 0
    return newest, _count_between(trigger, after, newest[0])


def _count_between(trigger: TriggerSpec, after: dt.datetime, before: dt.datetime) -> int:
    """How many slots lie in (after, before): exact for intervals, walked for cron."""
    if trigger.interval_s and not trigger.cron:
        step = int(trigger.interval_s)
        first = int((after - _EPOCH).total_seconds() // step) + 1
        last = int((before - _EPOCH).total_seconds() // step)
        if _EPOCH + dt.timedelta(seconds=last * step) == before:
            last -= 1
        return max(0, last - first + 1)
    n = 0
    for slot in iter_slots(trigger, after):
        if slot >= before or n >= COUNT_LIMIT:
            break
        n += 1
    return n


def _slots_before(trigger: TriggerSpec, until: dt.datetime) -> Iterator[dt.datetime]:
    """Slots at or before `until`, newest first."""
    if trigger.cron:
        zone = ZoneInfo(trigger.timezone or "UTC")
        wall = _local_wall(until, zone) + dt.timedelta(microseconds=1)
        seen: set[dt.datetime] = set()
        it = croniter(trigger.cron, wall)
        while True:
            local = it.get_prev(dt.datetime)
            slot = _slot_of_wall(local, zone)
            if slot is not None and slot <= until and slot not in seen:
                seen.add(slot)
                yield slot
    else:
        step = int(trigger.interval_s or 0)
        n = int((until - _EPOCH).total_seconds() // step)
        while True:
            yield _EPOCH + dt.timedelta(seconds=n * step)
            n -= 1


def _cron_slots(expression: str, zone: ZoneInfo, after: dt.datetime) -> Iterator[dt.datetime]:
    # Walk naive wall-clock times (croniter's own DST handling differs between
    # versions): each wall time maps to at most one UTC instant, its first occurrence.
    it = croniter(expression, _local_wall(after, zone))
    while True:
        local = it.get_next(dt.datetime)
        slot = _slot_of_wall(local, zone)
        if slot is not None and slot > after:
            yield slot


def _local_wall(utc: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return utc.replace(tzinfo=_UTC).astimezone(zone).replace(tzinfo=None, fold=0)


def _slot_of_wall(local: dt.datetime, zone: ZoneInfo) -> dt.datetime | None:
    """The UTC instant of a wall time (first occurrence), None if it does not exist."""
    aware = local.replace(tzinfo=zone, fold=0)
    utc = aware.astimezone(_UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != local.replace(fold=0):
        return None  # in the gap of a spring-forward change
    return utc.replace(tzinfo=None)


def describe(trigger: TriggerSpec) -> str:
    """A plain-language reading: "At 07:00, Monday through Friday (Europe/Berlin)"."""
    if trigger.cron:
        from cron_descriptor import Options, get_description

        options = Options()
        options.use_24hour_time_format = True
        fields = trigger.cron.split()
        if len(fields) == 6:  # croniter reads seconds last, cron-descriptor first
            fields = fields[-1:] + fields[:-1]
        try:
            text = get_description(" ".join(fields), options)
        except Exception:  # a reading is a nicety; the expression itself is valid
            text = trigger.cron
        return f"{text} ({trigger.timezone or 'UTC'})"
    if trigger.interval_s:
        return f"every {trigger.interval_s} s"
    return ""
