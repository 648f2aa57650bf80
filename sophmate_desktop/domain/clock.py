"""One notion of time: naive UTC datetimes, as stored in both databases."""

from __future__ import annotations

import datetime as _dt


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC).replace(tzinfo=None)


def iso(value: _dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="microseconds")
