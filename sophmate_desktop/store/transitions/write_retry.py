"""A write whose apply failed, tried again per its workflow's `retry` (limit, backoff):
only the kinds that may be repeated safely (domain.enums.RETRYABLE_WRITE_KINDS) go
back to approved with a backoff, uncounted and untold; the others fail once. And
what a final failure says of its attempts: never "attempt N of M" when none follows."""

from __future__ import annotations

import datetime as dt

from peewee import Database

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import RETRYABLE_WRITE_KINDS, WriteStatus
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.domain.run_account import plural
from sophmate_desktop.store.models import Write
from sophmate_desktop.store.transitions import gate
from sophmate_desktop.store.transitions.events import write_event
from sophmate_desktop.store.workflows import LoadedWorkflow


def retry_policy(wf: LoadedWorkflow) -> tuple[int, float]:
    """(retries allowed after the first attempt, seconds to wait before each)."""
    retry = wf.definition.retry
    return (retry.limit, retry.backoff_s) if retry else (0, 0.0)


def schedule_write_retry(db: Database, w: Write, wf: LoadedWorkflow, error: str) -> bool:
    """Inside finish_apply's transaction: an applying write whose apply failed goes back
    to approved for its next attempt, not applied before the backoff ends. False (and
    nothing changed) when its kind is not retried or its attempts are used up."""
    limit, backoff = retry_policy(wf)
    if w.kind not in RETRYABLE_WRITE_KINDS or w.attempt > limit:
        return False
    event = write_event(
        AuditAction.WRITE_RETRY_SCHEDULED,
        w.id,
        w.run_id,
        workflow=wf.name,
        category=w.category,
        reason=error,
        details={
            "kind": w.kind,
            "target": w.target,
            "attempt": w.attempt,
            "next_attempt": w.attempt + 1,
            "attempts": limit + 1,
            "limit": limit,
            "backoff_s": backoff,
        },
    )
    return gate.move_write(
        db,
        w.id,
        WriteStatus.APPLYING,
        WriteStatus.APPROVED,
        events=event,
        attempt=w.attempt + 1,
        next_attempt_at=utcnow() + dt.timedelta(seconds=backoff),
        error=error,
        claimed_by=None,
    )


def attempts_said(attempts: int, limit: int, kind: str | None = None) -> str:
    """How a final failure tells its attempts (`kind`: of the write that failed)."""
    if attempts > 1:
        return f"It failed after {plural(attempts, 'attempt')}"
    if kind is not None and kind not in RETRYABLE_WRITE_KINDS and limit:
        return f"It was tried once: a {kind} write is never retried by itself"
    if limit == 0:
        return "It was tried once: the workflow allows no retries"
    return "It was tried once"
