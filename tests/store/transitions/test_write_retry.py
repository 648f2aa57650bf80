"""A failed apply tried again per the workflow's `retry` (files and HTTP only), its
backoff kept by begin_apply and the monitor's timing, failure notices and counts only
after the last attempt, honest attempt counts; a shutdown ends nothing as failed.

One engine step at a time with the engine's own transaction functions (no threads),
on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import AuditEvent, Notification, Run, Workflow, Write
from sophmate_desktop.store.transitions import intake, outcomes, recovery
from tests.support.run_flow import WORKFLOW, Flow, command, email, file_write, http_call

BACKOFF = WORKFLOW.replace("backoff_s: 0", "backoff_s: 60").replace(
    "consecutive_failures: 1", "consecutive_failures: 3"
)


def staged(db, make_console, doc: str = BACKOFF) -> Flow:
    make_console("lead").import_workflow(doc)  # four eyes: ana may approve
    with write_transaction(db):  # arranged: a staged, enabled workflow
        Workflow.update(stage="staging", enabled=True).execute()
    return Flow(db, make_console("ana"))


def approved_write(flow: Flow, planned) -> tuple[int, int]:
    run_id = flow.offer()
    flow.claim(run_id)
    flow.plan(run_id, [planned])
    [write_id] = flow.writes(run_id)
    assert flow.console.approve([write_id])[0].ok
    return run_id, write_id


def fail_once(flow: Flow, write_id: int, error: str) -> str:
    taken, why = outcomes.begin_apply(flow.db, write_id, "host:1")
    assert taken is not None, why
    return outcomes.finish_apply(flow.db, write_id, error=error)


def backoff_ended(db, write_id: int) -> None:
    with write_transaction(db):  # arranged: the clock moved past the backoff
        Write.update(next_attempt_at=utcnow() - dt.timedelta(seconds=1)).where(
            Write.id == write_id
        ).execute()


def actions(run_id: int) -> list[str]:
    events = AuditEvent.select().where(AuditEvent.run == run_id).order_by(AuditEvent.id)
    return [e.action for e in events]


def failure_notices() -> list[Notification]:
    return list(Notification.select().where(Notification.kind == "run_failed"))


def test_a_failed_file_write_waits_for_its_backoff_then_is_tried_again(db, make_console):
    flow = staged(db, make_console)
    run_id, write_id = approved_write(flow, file_write(1))
    before = utcnow()
    assert fail_once(flow, write_id, "could not write /tmp/out/f1.txt: Read-only") == "applying"

    w = Write.get_by_id(write_id)
    assert (w.status, w.attempt, w.claimed_by) == ("approved", 2, None)
    assert w.error == "could not write /tmp/out/f1.txt: Read-only"
    minute = dt.timedelta(seconds=60)
    assert before + minute - dt.timedelta(seconds=1) < w.next_attempt_at <= utcnow() + minute
    scheduled = AuditEvent.get(AuditEvent.action == "write.retry_scheduled")
    assert (scheduled.subject, scheduled.run, scheduled.reason) == (
        f"write {write_id}",
        run_id,
        "could not write /tmp/out/f1.txt: Read-only",
    )
    assert scheduled.details == {
        "kind": "write_file",
        "target": "/tmp/out/f1.txt",
        "attempt": 1,
        "next_attempt": 2,
        "attempts": 3,
        "limit": 2,
        "backoff_s": 60.0,
    }
    # not a failure: no notice, no count, the run stays open
    assert failure_notices() == []
    assert Workflow.get().consecutive_failures == 0
    assert Run.get_by_id(run_id).status == "applying"
    assert "write.failed" not in actions(run_id)

    # nobody takes it before the backoff ends; the monitor knows when that is
    taken, why = outcomes.begin_apply(db, write_id, "host:1")
    assert taken is None and "next attempt is due at" in why
    assert 55 < intake.next_retry_in(db) <= 60

    backoff_ended(db, write_id)
    assert intake.next_retry_in(db) is None
    taken, why = outcomes.begin_apply(db, write_id, "host:1")
    assert taken is not None, why
    assert outcomes.finish_apply(db, write_id) == "succeeded"
    assert Write.get_by_id(write_id).status == "applied"
    assert failure_notices() == []
    assert Workflow.get().consecutive_failures == 0


def test_the_last_attempt_fails_the_run_and_tells_how_many_were_made(db, make_console):
    flow = staged(db, make_console)
    run_id, write_id = approved_write(flow, file_write(1))
    for attempt in (1, 2):
        assert fail_once(flow, write_id, "disk full") == "applying", attempt
        backoff_ended(db, write_id)
    assert fail_once(flow, write_id, "disk full") == "failed"

    w = Write.get_by_id(write_id)
    assert (w.status, w.attempt) == ("failed", 3)
    assert actions(run_id).count("write.retry_scheduled") == 2
    assert AuditEvent.get(AuditEvent.action == "write.failed").details["attempt"] == 3
    [notice] = failure_notices()
    assert notice.body == "disk full\nIt failed after 3 attempts; 1 failed in a row."
    assert "Attempt" not in notice.body  # none follows
    assert Workflow.get().consecutive_failures == 1


@pytest.mark.parametrize(
    ("planned", "said"),
    [
        (email(1), "It was tried once: a send_email write is never retried by itself"),
        (command(), "It was tried once: a run_command write is never retried by itself"),
    ],
)
def test_writes_that_could_repeat_their_effect_fail_once(db, make_console, planned, said):
    flow = staged(db, make_console)
    run_id, write_id = approved_write(flow, planned)
    assert fail_once(flow, write_id, "connection refused") == "failed"
    assert Write.get_by_id(write_id).status == "failed"
    assert "write.retry_scheduled" not in actions(run_id)
    [notice] = failure_notices()
    assert notice.body == f"connection refused\n{said}; 1 failed in a row."
    assert Workflow.get().consecutive_failures == 1


def test_an_http_request_is_retried_for_it_carries_an_idempotency_key(db, make_console):
    flow = staged(db, make_console)
    _run_id, write_id = approved_write(flow, http_call(1))
    assert fail_once(flow, write_id, "HTTP 503 Service Unavailable") == "applying"
    assert (Write.get_by_id(write_id).status, Write.get_by_id(write_id).attempt) == ("approved", 2)


def test_no_retries_allowed_fails_at_once_and_says_so(db, make_console):
    flow = staged(db, make_console, BACKOFF.replace("limit: 2", "limit: 0"))
    _run_id, write_id = approved_write(flow, file_write(1))
    assert fail_once(flow, write_id, "disk full") == "failed"
    [notice] = failure_notices()
    assert notice.body == (
        "disk full\nIt was tried once: the workflow allows no retries; 1 failed in a row."
    )


def test_a_write_stopped_by_a_kill_switch_is_not_tried_again(db, make_console):
    flow = staged(db, make_console)
    _run_id, write_id = approved_write(flow, file_write(1))
    assert outcomes.begin_apply(db, write_id, "host:1")[0] is not None
    outcomes.finish_apply(db, write_id, error="killed: category finance is paused", retry=False)
    assert Write.get_by_id(write_id).status == "failed"
    # stopped, not failed: the run is cancelled, nothing counts towards the failure pause
    run = Run.get_by_id(_run_id)
    assert (run.status, run.error) == ("cancelled", "killed: category finance is paused")
    assert Workflow.get(Workflow.id == run.workflow_id).consecutive_failures == 0
    assert failure_notices() == []


def test_a_planning_failure_notice_counts_the_runs_attempts(db, make_console):
    flow = staged(db, make_console, BACKOFF.replace("backoff_s: 60", "backoff_s: 0"))
    run_id = flow.offer()
    for _attempt in range(3):
        flow.claim(run_id)
        outcomes.fail_run(db, run_id, "input file is gone", {})
    assert Run.get_by_id(run_id).status == "failed"
    [notice] = failure_notices()
    assert notice.body == "input file is gone\nIt failed after 3 attempts; 1 failed in a row."


def test_a_person_retrying_a_failed_write_starts_its_attempts_again(db, make_console):
    flow = staged(db, make_console)
    _run_id, write_id = approved_write(flow, file_write(1))
    for _attempt in (1, 2):
        fail_once(flow, write_id, "disk full")
        backoff_ended(db, write_id)
    fail_once(flow, write_id, "disk full")
    flow.console.retry_write(write_id, "freed some space")
    w = Write.get_by_id(write_id)
    assert (w.status, w.attempt, w.next_attempt_at) == ("approved", 1, None)
    assert outcomes.begin_apply(db, write_id, "host:1")[0] is not None


def test_shutdown_interrupts_a_command_without_a_failure(db, make_console):
    flow = staged(db, make_console)
    run_id, write_id = approved_write(flow, command())
    assert outcomes.begin_apply(db, write_id, "host:1")[0] is not None
    assert outcomes.finish_apply(db, write_id, interrupted=True) == "awaiting_approval"
    assert Write.get_by_id(write_id).status == "interrupted"
    interrupted = AuditEvent.get(AuditEvent.action == "write.interrupted")
    assert interrupted.reason == "the engine host:1 stopped while applying"
    assert Notification.get(Notification.kind == "write_interrupted").run == run_id
    assert failure_notices() == []
    assert Workflow.get().consecutive_failures == 0


def test_shutdown_gives_a_file_write_back_to_the_next_engine(db, make_console):
    flow = staged(db, make_console)
    run_id, write_id = approved_write(flow, file_write(1))
    assert outcomes.begin_apply(db, write_id, "host:1")[0] is not None
    outcomes.finish_apply(db, write_id, interrupted=True)
    assert Write.get_by_id(write_id).status == "approved"
    assert "write.resumed" in actions(run_id)
    assert outcomes.begin_apply(db, write_id, "host:2")[0] is not None


def test_shutdown_while_planning_queues_the_run_again(db, make_console):
    flow = staged(db, make_console)
    run_id = flow.offer()
    flow.claim(run_id)
    assert recovery.requeue_stopped_run(db, run_id)
    run = Run.get_by_id(run_id)
    assert (run.status, run.claimed_by) == ("queued", None)
    assert actions(run_id)[-1] == "run.requeued"
    assert intake.next_queued(db) == [run_id]
    assert not recovery.requeue_stopped_run(db, run_id)  # only a running run
