"""One notion of time: naive UTC datetimes, as stored in both databases."""

from __future__ import annotations

import datetime as _dt


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC).replace(tzinfo=None)


def iso(value: _dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="microseconds")


def age_text(since: _dt.datetime, now: _dt.datetime | None = None) -> str:
    """'< 1 min', '3 min', '2 h', '4 d': how long something has waited."""
    seconds = max(0.0, ((now or utcnow()) - since).total_seconds())
    if seconds < 60:
        return "< 1 min"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"
