"""Runs that fail before they begin: a file the intake refuses (an undecodable name, a
link outside the watched folder, an offer that could not be recorded) and a watched
folder in trouble. Each is created queued and failed through the gate, with a notice,
so the run history and the notices tell what happened to the file or the watch."""

from __future__ import annotations

import datetime as dt
from typing import Any

from peewee import Database

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import RunStatus
from sophmate_desktop.domain.names import ENGINE_ACTOR, AuditAction
from sophmate_desktop.store.audit import NewEvent
from sophmate_desktop.store.models import Category, Run, Workflow
from sophmate_desktop.store.notifications import record_notification
from sophmate_desktop.store.sql import queued_transaction
from sophmate_desktop.store.transitions import gate
from sophmate_desktop.store.transitions.events import run_event


def _fail(db: Database, run_id: int, now: dt.datetime, event: NewEvent, reason: str) -> None:
    gate.move_run(db, run_id, RunStatus.QUEUED, RunStatus.RUNNING, started_at=now)
    gate.move_run(
        db,
        run_id,
        RunStatus.RUNNING,
        RunStatus.FAILED,
        events=event,
        finished_at=now,
        error=reason,
    )


def fail_refused_run(
    db: Database, run_id: int, workflow: str, category: str, offer: Any, now: dt.datetime
) -> None:
    """A refused offer's queued run (its queued event already in the trail) ->
    running -> failed with the reason, and a notice. Inside the caller's transaction."""
    reason = offer.refused
    event = run_event(
        AuditAction.RUN_FAILED,
        run_id,
        workflow=workflow,
        category=category,
        reason=reason,
        details={"refused": True, "path": str(offer.path)},
    )
    _fail(db, run_id, now, event, reason)
    record_notification(
        "error",
        "file_refused",
        f"{workflow}: a file was refused",
        f"{reason} (run {run_id}). The file was not run.",
        workflow=workflow,
        run=run_id,
        group_key=f"refused:{workflow}",
    )


def record_watch_problem(db: Database, key: str, message: str, host: str) -> bool:
    """A watch problem of workflow `key` as a failed run and a notice (False: no such
    workflow)."""
    with queued_transaction(db):
        wf = Workflow.get_or_none(Workflow.name == key)
        if wf is None:
            return False
        now = utcnow()
        # A run that failed before it began: created queued, then failed through
        # the gate like any run, so its trail has one event (the problem's).
        run = Run.create(
            workflow=wf.id,
            revision=wf.revision,
            trigger_kind="watch",
            mode=wf.stage,
            status=RunStatus.QUEUED.value,
            queued_at=now,
            host=host,
        )
        category = Category.get_by_id(wf.category_id).name
        event = NewEvent(
            actor=ENGINE_ACTOR,
            action=AuditAction.WATCH_PROBLEM,
            subject=key,
            category=category,
            workflow=key,
            run=run.id,
            reason=message,
        )
        _fail(db, run.id, now, event, message)
        record_notification(
            "error",
            "watch_problem",
            f"{key}: {message}",
            "Files for this workflow are not being watched. Fix the "
            "folder; the engine picks it up again by itself.",
            workflow=key,
            run=run.id,
            group_key=f"watch:{key}",
        )
    return True
