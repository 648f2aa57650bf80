"""The run account of writes tried again: word for word, from hand-made rows. "Attempt
N of M" only for an attempt another followed; the last one is told as the last."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from datetime import datetime

from sophmate_desktop.console.run_account import build_account
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.store.rows import AuditRow, RunRow, WriteRow

WHEN = datetime(2026, 11, 27, 9, 14)
TARGET = "/srv/out/acme-17.csv"


def _at(minute: int, second: int = 0) -> str:
    return f"2026-11-27T09:{minute:02}:{second:02}.000000Z"


def run_row(status: str) -> RunRow:
    return RunRow(
        id=42, workflow="invoice-intake", category="finance", revision=1,
        trigger_kind="file", trigger_path="/srv/in/acme-17.csv", mode="staging",
        status=status, attempt=1, queued_at=WHEN, started_at=WHEN,
        finished_at=datetime(2026, 11, 27, 9, 21) if status in ("failed", "succeeded") else None,
        error=None, duration_ms=420_000, writes=1, affected_records=1, bytes_read=3200,
        bytes_written=0, cost=0.0, reviewed=False,
    )  # fmt: skip


def write_row(status: str, kind: str = "write_file") -> WriteRow:
    return WriteRow(
        id=7, run_id=42, workflow="invoice-intake", category="finance", seq=1, kind=kind,
        effect="file", target=TARGET, summary="", preview="", customer_facing=False,
        status=status, created_at=WHEN, decided_by="ana", decided_at=WHEN, comment=None,
        applied_at=None, error=None,
    )  # fmt: skip


def ev(i, at, action, subject="write 7", reason=None, details=None, actor="engine"):
    return AuditRow(i, at, actor, action, subject, "finance", "invoice-intake", 42,
                    reason, details or {})  # fmt: skip


def scheduled(i: int, at: str, attempt: int, reason: str = "disk full") -> AuditRow:
    details = {
        "kind": "write_file",
        "target": TARGET,
        "attempt": attempt,
        "next_attempt": attempt + 1,
        "attempts": 3,
        "limit": 2,
        "backoff_s": 30.0,
    }
    return ev(i, at, "write.retry_scheduled", reason=reason, details=details)


START = [
    ev(1, _at(14), "run.queued", "run 42", details={"trigger": "file", "size": 3200}),
    ev(2, _at(14, 1), "run.started", "run 42"),
    ev(3, _at(14, 2), "run.planned", "run 42", details={"writes": 1}),
    ev(4, _at(15), "write.approved", actor="ana"),
    ev(5, _at(15, 1), "write.applying"),
]


def paragraphs(status: str, write: WriteRow, events: list[AuditRow]) -> list[str]:
    account = build_account(run_row(status), [write], events, stage="staging", retry_limit=2)
    return [account.headline, *account.paragraphs]


def test_a_write_that_failed_for_good_after_its_retries() -> None:
    events = [
        *START,
        scheduled(6, _at(15, 2), 1),
        ev(7, _at(15, 32), "write.applying"),
        scheduled(8, _at(15, 33), 2),
        ev(9, _at(16, 3), "write.applying"),
        ev(10, _at(16, 4), "write.failed", reason="disk full", details={"attempt": 3}),
        ev(11, _at(16, 4), "run.failed", "run 42"),
    ]
    headline, _opening, middle, ending = paragraphs("failed", write_row("failed"), events)
    assert headline == "Run 42 of invoice-intake failed after 3 attempts"
    assert middle == (
        "ana approved the write at 09:15. Attempts 1 and 2 of 3 to apply write 1 (write_file "
        f"to {TARGET}) failed at 09:15: disk full; it was tried again after 30 s each time. "
        f"Write 1 (write_file to {TARGET}) failed again at 09:16, on its last attempt: disk full."
    )
    assert ending == (
        "The run failed at 09:21: 1 write could not be applied. It used its 2 retries: retry "
        "the write, or the run."
    )


def test_a_write_applied_on_its_second_attempt() -> None:
    events = [
        *START,
        scheduled(6, _at(15, 2), 1, "could not write: Read-only file system"),
        ev(7, _at(15, 32), "write.applying"),
        ev(8, _at(15, 33), "write.applied"),
        ev(9, _at(15, 33), "run.succeeded", "run 42"),
    ]
    headline, _opening, middle, ending = paragraphs("succeeded", write_row("applied"), events)
    assert headline == "Run 42 of invoice-intake succeeded"
    assert middle == (
        "ana approved the write at 09:15. The approved write was applied at 09:15. Attempt 1 "
        f"of 3 to apply write 1 (write_file to {TARGET}) failed at 09:15: could not write: "
        "Read-only file system; it was tried again after 30 s."
    )
    assert ending == "The run succeeded at 09:21 (it took 7 min 0 s)."


def test_a_write_waiting_for_its_next_attempt() -> None:
    events = [*START, scheduled(6, _at(15, 2), 1)]
    _headline, _opening, middle, ending = paragraphs("applying", write_row("approved"), events)
    assert middle.endswith(
        f"Attempt 1 of 3 to apply write 1 (write_file to {TARGET}) failed at 09:15: disk full; "
        "attempt 2 follows after 30 s."
    )
    assert ending == "Its approved writes are being applied."


def test_an_email_that_failed_is_not_tried_again() -> None:
    events = [
        *START,
        ev(6, _at(15, 2), "write.failed", reason="connection refused", details={"attempt": 1}),
    ]
    headline, _opening, middle, ending = paragraphs(
        "failed", write_row("failed", "send_email"), events
    )
    assert headline == "Run 42 of invoice-intake failed"
    assert "Attempt" not in middle
    assert ending == (
        "The run failed at 09:21: 1 write could not be applied. A send_email write is never "
        "tried again by itself, as that could repeat its effect: retry it, or the run."
    )


def test_a_write_waiting_for_its_backoff_is_told_as_waiting() -> None:
    due = utcnow() + dt.timedelta(minutes=5)
    waiting = dataclasses.replace(write_row("approved"), attempt=2, next_attempt_at=due)
    events = [*START, scheduled(6, _at(15, 2), 1)]
    *_rest, ending = paragraphs("applying", waiting, events)
    assert re.fullmatch(
        rf"Write 1 \(write_file to {re.escape(TARGET)}\) waits for attempt 2, due \S.*\.", ending
    ), ending
    assert "being applied" not in ending
