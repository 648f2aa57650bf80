"""Notification centre records: repeats are grouped until someone reads them."""

from __future__ import annotations

from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import Notification
from sophmate_desktop.store.notifications import record_notification


def test_repeated_notices_are_grouped(db) -> None:
    with write_transaction(db):
        first = record_notification("error", "run_failed", "wf: run 1 failed", group_key="g")
        second = record_notification("error", "run_failed", "wf: run 2 failed", group_key="g")
        other = record_notification("error", "run_failed", "other failed", group_key="h")
    assert first == second != other
    note = Notification.get_by_id(first)
    assert (note.title, note.count) == ("wf: run 2 failed", 2)


def test_a_read_notice_starts_a_new_group(db) -> None:
    with write_transaction(db):
        first = record_notification(
            "info", "writes_pending", "3 writes", group_key="p", replace_count=3
        )
    Notification.update(read=True).where(Notification.id == first).execute()
    with write_transaction(db):
        second = record_notification(
            "info", "writes_pending", "5 writes", group_key="p", replace_count=5
        )
    assert second != first
    assert Notification.get_by_id(second).count == 5
