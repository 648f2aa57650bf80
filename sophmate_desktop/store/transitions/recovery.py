"""After a crash or a shutdown: runs cut short while planning go back to the queue;
writes cut short while applying are finished when their kind can be checked
(idempotent) and otherwise wait, interrupted, for a person to decide."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

from peewee import Database

from sophmate_desktop.domain.enums import IDEMPOTENT_WRITE_KINDS, RunStatus, WriteStatus
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.store.models import Run, Workflow, Write
from sophmate_desktop.store.notifications import record_notification
from sophmate_desktop.store.sql import queued_transaction
from sophmate_desktop.store.transitions import gate
from sophmate_desktop.store.transitions.events import run_event, write_event


def recover(db: Database, host: str) -> dict[str, int]:
    """After a crash: requeue runs cut short while planning; finish idempotent writes,
    mark the others interrupted. Only records claimed on this host by a dead process."""
    counts = {"runs_requeued": 0, "writes_resumed": 0, "writes_interrupted": 0}
    dead = _dead_claimer(host)
    with queued_transaction(db):
        for run in Run.select().where(Run.status == RunStatus.RUNNING.value):
            if dead(run.claimed_by) and _requeue(db, run):
                counts["runs_requeued"] += 1
        for w in Write.select().where(Write.status == WriteStatus.APPLYING.value):
            if dead(w.claimed_by):
                counts[resume_or_interrupt(db, w)] += 1
    return counts


def _dead_claimer(host: str) -> Callable[[str | None], bool]:
    """Whether a claim was made by a process of this host that is gone."""
    hostname = host.split(":", 1)[0]

    def dead(claimer: str | None) -> bool:
        if not claimer:
            return True
        name, _, pid = claimer.partition(":")
        if name != hostname or not pid.isdigit() or int(pid) == os.getpid():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    return dead


def requeue_stopped_run(db: Database, run_id: int) -> bool:
    """The engine is shutting down while planning this run: back to the queue, for the
    next engine to plan (never failed, never left running)."""
    with queued_transaction(db):
        run = Run.get_by_id(run_id)
        return run.status == RunStatus.RUNNING and _requeue(db, run)


def _requeue(db: Database, run: Run) -> bool:
    wf = Workflow.get_by_id(run.workflow_id)
    event = run_event(
        AuditAction.RUN_REQUEUED,
        run.id,
        workflow=wf.name,
        category=wf.category.name,
        reason=f"the engine {run.claimed_by} stopped while planning",
    )
    return gate.move_run(
        db, run.id, RunStatus.RUNNING, RunStatus.QUEUED, events=event, claimed_by=None
    )


def resume_or_interrupt(db: Database, w: Write) -> str:
    """An applying write of a dead engine: idempotent ones go back to approved, others
    wait as interrupted for a person. Returns the count it adds to."""
    wf = Workflow.get_by_id(w.workflow_id)
    if w.kind in IDEMPOTENT_WRITE_KINDS:
        new, action, counted = WriteStatus.APPROVED, AuditAction.WRITE_RESUMED, "writes_resumed"
    else:
        new, action = WriteStatus.INTERRUPTED, AuditAction.WRITE_INTERRUPTED
        counted = "writes_interrupted"
    event = write_event(
        action,
        w.id,
        w.run_id,
        workflow=wf.name,
        category=w.category,
        reason=f"the engine {w.claimed_by} stopped while applying",
        details={"kind": w.kind, "target": w.target},
    )
    moved = gate.move_write(db, w.id, WriteStatus.APPLYING, new, events=event, claimed_by=None)
    if moved and new is WriteStatus.INTERRUPTED:
        _notify_interrupted(w, wf.name, " may or may not have taken effect: check")
    return counted


def host_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _notify_interrupted(w: Write, workflow: str, check: str) -> None:
    record_notification(
        "warning",
        "write_interrupted",
        f"write {w.id} was interrupted",
        f"{w.kind} to {w.target}{check}, then mark it applied or retry it in the inbox.",
        workflow=workflow,
        run=w.run_id,
    )
