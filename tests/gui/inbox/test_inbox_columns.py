"""What the inbox table's columns show (inbox_columns): the age of a pending write."""

from __future__ import annotations

from datetime import datetime, timedelta

from sophmate_desktop.domain.clock import age_text


def test_age_text():
    now = datetime(2025, 5, 1, 12, 0)
    assert age_text(now - timedelta(seconds=20), now) == "< 1 min"
    assert age_text(now - timedelta(minutes=3, seconds=50), now) == "3 min"
    assert age_text(now - timedelta(hours=2, minutes=59), now) == "2 h"
    assert age_text(now - timedelta(days=4, hours=3), now) == "4 d"
    assert age_text(now + timedelta(seconds=5), now) == "< 1 min"  # clocks differ a little
