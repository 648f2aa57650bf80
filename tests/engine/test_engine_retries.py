"""Write retries against a live engine and real files: a write into a read-only folder
is tried again after its backoff (the monitor picks it up on time) and applied once
the folder is writable; an e-mail to a closed port fails once for good; stopping the
engine mid-command interrupts the write and fails nothing, and a run it was planning
is queued again."""

from __future__ import annotations

import socket
from pathlib import Path

from sophmate_desktop.engine.handles import SHUTDOWN_REASON, InFlight
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.store.models import AuditEvent, Notification, Run, Workflow, Write
from sophmate_desktop.store.transitions import intake
from tests.support.engine import (
    SLEEPER,
    pending_run,
    staging_workflow,
    to_staging,
    wait_until,
    workflow_doc,
)
from tests.support.paths import read_only


def staged(console, engine, tmp_path: Path, name: str, steps: str | None = None, **kw) -> Path:
    out = tmp_path / f"out-{name}"
    out.mkdir()
    extra = {"steps": steps} if steps else {}
    console.import_workflow(workflow_doc(name, None, out, **extra, **kw))
    sample = tmp_path / f"sample-{name}.txt"
    sample.write_text("sample")
    to_staging(console, engine, name, sample)
    return out


def failure_notices() -> list[Notification]:
    return list(Notification.select().where(Notification.kind == "run_failed"))


def test_a_write_into_a_read_only_folder_is_applied_on_its_second_attempt(
    sqlite_db, sconsole, make_engine, tmp_path
):
    engine = make_engine(sqlite_db, sconsole, watch=False)
    out = staged(sconsole, engine, tmp_path, "copier", retry=2, backoff=2)
    with read_only(out) as writable:
        [write_id] = pending_run(sconsole, engine, tmp_path, "copier", "invoice")
        assert sconsole.approve([write_id])[0].ok
        wait_until(lambda: Write.get_by_id(write_id).attempt == 2, 30, "the first attempt to fail")
        w = Write.get_by_id(write_id)
        assert w.status == "approved" and "could not write" in w.error, w.error
        assert not (out / "invoice.txt").exists()
        writable()
        # the monitor takes it up again when its backoff ends, without being woken
        status = engine.wait_for_run(w.run_id, 30, until=("succeeded", "failed"))
    assert status == "succeeded", Write.get_by_id(write_id).error
    assert (out / "invoice.txt").read_text() == "invoice"
    w = Write.get_by_id(write_id)
    assert (w.status, w.attempt) == ("applied", 2)
    applying = list(
        AuditEvent.select()
        .where(AuditEvent.subject == f"write {write_id}", AuditEvent.action == "write.applying")
        .order_by(AuditEvent.id)
    )
    scheduled = AuditEvent.get(AuditEvent.action == "write.retry_scheduled")
    # the second attempt began no earlier than the backoff allowed
    assert len(applying) == 2 and applying[1].at >= scheduled.at
    assert w.applied_at >= w.next_attempt_at
    assert failure_notices() == []
    assert Workflow.get(Workflow.name == "copier").consecutive_failures == 0
    text = sconsole.run_account(w.run_id).text(width=10_000)
    assert "Attempt 1 of 3 to apply write 1 (write_file to" in text, text
    assert "; it was tried again after 2 s." in text, text


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_email_to_a_closed_port_fails_once_for_good(sqlite_db, sconsole, make_engine, tmp_path):
    smtp = {"host": "127.0.0.1", "port": closed_port(), "from": "robot@example.test"}
    sconsole.save_connection("mail", "smtp", smtp, staging_settings=smtp)
    step = """\
  - action: send_email
    connection: mail
    to: ["ana@example.test"]
    subject: "Report {{ file.name }}"
    body: "{{ input }}"
"""
    engine = make_engine(sqlite_db, sconsole, watch=False)
    staged(sconsole, engine, tmp_path, "mailer", step, retry=2, backoff=0)
    [write_id] = pending_run(sconsole, engine, tmp_path, "mailer", "report")
    assert sconsole.approve([write_id])[0].ok
    run_id = Write.get_by_id(write_id).run_id
    assert engine.wait_for_run(run_id, 30, until=("succeeded", "failed")) == "failed"
    w = Write.get_by_id(write_id)
    assert (w.status, w.attempt) == ("failed", 1)
    assert not AuditEvent.select().where(AuditEvent.action == "write.retry_scheduled").exists()
    [notice] = failure_notices()
    assert "It was tried once: a send_email write is never retried by itself" in notice.body
    assert "Attempt" not in notice.body
    assert Workflow.get(Workflow.name == "mailer").consecutive_failures == 1
    text = sconsole.run_account(run_id).text(width=10_000)
    assert "A send_email write is never tried again by itself" in text, text


def test_stopping_the_engine_mid_command_interrupts_the_write_and_fails_nothing(
    sqlite_db, sconsole, make_engine, tmp_path
):
    engine = make_engine(sqlite_db, sconsole)
    staging_workflow(sconsole, engine, tmp_path, "sleeper", SLEEPER)
    [write_id] = pending_run(sconsole, engine, tmp_path, "sleeper", "go")
    failures_before = Workflow.get(Workflow.name == "sleeper").consecutive_failures
    assert sconsole.approve([write_id])[0].ok
    wait_until(lambda: engine.inflight.ids("write") == {write_id}, 10, "the command to start")
    wait_until(lambda: engine.inflight.snapshot()[0].processes, 10, "the process to be registered")
    [proc] = engine.inflight.snapshot()[0].processes

    engine.stop()

    assert proc.poll() is not None and proc.returncode < 0  # killed, not its 30 s sleep ended
    w = Write.get_by_id(write_id)
    assert w.status == "interrupted", (w.status, w.error)
    run = Run.get_by_id(w.run_id)
    assert run.status == "awaiting_approval"  # a person decides: mark applied or retry
    assert Workflow.get(Workflow.name == "sleeper").consecutive_failures == failures_before
    assert failure_notices() == []
    event = AuditEvent.get(AuditEvent.action == "write.interrupted")
    assert "stopped while applying" in event.reason
    assert [i.id for i in sconsole.list_inbox()] == [write_id]


def planning_stopped(engine, shutdown: bool, reason: str) -> int:
    """A run claimed by a worker of an engine that is not running, stopped (as
    Engine.stop or a kill switch does) before its first step is planned."""
    [(run_id, status)] = intake.record_offers(
        engine.db, [intake.Offer("planner", "manual", actor="ana")], engine.host
    )
    assert status == "queued"
    assert intake.claim(engine.db, run_id, engine.host) is not None
    item = InFlight("run", run_id, "planner", "finance", ())
    item.cancel(reason, shutdown=shutdown)
    engine.executor.execute_run(run_id, item)
    return run_id


def test_a_run_being_planned_at_shutdown_is_queued_again(
    sqlite_db, sconsole, make_engine, tmp_path
):
    running = make_engine(sqlite_db, sconsole, watch=False)
    staged(sconsole, running, tmp_path, "planner")
    running.stop()  # nothing else claims the runs below
    idle = Engine(sqlite_db, watch=False)  # never started: its worker code only
    run_id = planning_stopped(idle, True, SHUTDOWN_REASON)
    run = Run.get_by_id(run_id)
    assert (run.status, run.claimed_by, run.error) == ("queued", None, None)
    requeued = AuditEvent.get(AuditEvent.action == "run.requeued", AuditEvent.run == run_id)
    assert "stopped while planning" in requeued.reason
    assert Workflow.get(Workflow.name == "planner").consecutive_failures == 0
    # a kill switch, unlike a shutdown, cancels the run
    run_id = planning_stopped(idle, False, "category finance is paused")
    assert Run.get_by_id(run_id).status == "cancelled"
    assert failure_notices() == []
