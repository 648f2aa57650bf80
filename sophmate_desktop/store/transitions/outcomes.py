"""How runs and writes end: failure (with retries and the pause rule), cancellation,
applying a write (switches re-checked in the same transaction; a failed apply retried
per transitions/write_retry.py). Crash recovery: transitions/recovery.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from peewee import Database, fn

from sophmate_desktop.domain import policy, states
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import RunStatus, WriteStatus
from sophmate_desktop.domain.names import ENGINE_ACTOR, POLICY_ACTOR, AuditAction
from sophmate_desktop.store import sql
from sophmate_desktop.store.audit import NewEvent
from sophmate_desktop.store.models import Run, Workflow, Write
from sophmate_desktop.store.notifications import record_notification
from sophmate_desktop.store.sql import queued_transaction
from sophmate_desktop.store.transitions import gate
from sophmate_desktop.store.transitions.budget import check_budget
from sophmate_desktop.store.transitions.events import run_event, write_event
from sophmate_desktop.store.transitions.intake import _duration
from sophmate_desktop.store.transitions.recovery import resume_or_interrupt
from sophmate_desktop.store.transitions.write_retry import (
    attempts_said,
    retry_policy,
    schedule_write_retry,
)
from sophmate_desktop.store.workflows import effects_of, load_workflow, switch_states

OPEN_WRITES = [s.value for s in states.RUN_OPEN_WRITE_STATUSES]


@dataclass(frozen=True)
class FailureOutcome:
    retried: bool
    final: bool
    paused: bool
    notified: int | None  # notification id (only after the last retry)


def fail_run(
    db: Database,
    run_id: int,
    error: str,
    diagnostics: dict,
    *,
    retryable: bool = True,
    not_before_s: float = 0.0,
) -> FailureOutcome:
    """A run failed: retry with backoff, or fail it for good and apply the pause rule.
    `retryable` False: no retry helps (a provider refused the key); `not_before_s`: the
    retry waits at least this long (a provider's retry-after)."""
    now = utcnow()
    with queued_transaction(db):
        run = Run.get_by_id(run_id)
        wf_model = Workflow.get_by_id(run.workflow_id)
        wf = load_workflow(wf_model)
        retry = wf.definition.retry
        limit = retry.limit if retry and retryable else 0
        if run.status == RunStatus.RUNNING and run.attempt <= limit:
            backoff = max(retry.backoff_s if retry else 0, not_before_s)
            retry_event = run_event(
                AuditAction.RUN_RETRY_SCHEDULED,
                run_id,
                workflow=wf.name,
                category=wf.category,
                reason=error,
                details={
                    "attempt": run.attempt,
                    "next_attempt": run.attempt + 1,
                    "limit": limit,
                    "backoff_s": backoff,
                },
            )
            gate.move_run(
                db,
                run_id,
                RunStatus.RUNNING,
                RunStatus.QUEUED,
                events=retry_event,
                attempt=run.attempt + 1,
                error=error,
                diagnostics=diagnostics,
                next_attempt_at=now + dt.timedelta(seconds=backoff),
            )
            return FailureOutcome(True, False, False, None)
        failed_event = run_event(
            AuditAction.RUN_FAILED,
            run_id,
            workflow=wf.name,
            category=wf.category,
            reason=error,
            details={"attempt": run.attempt},
        )
        gate.move_run(
            db,
            run_id,
            RunStatus(run.status),
            RunStatus.FAILED,
            events=failed_event,
            error=error,
            diagnostics=diagnostics,
            finished_at=now,
            duration_ms=_duration(run.started_at, now),
        )
        paused_now, note = record_final_failure(db, run_id, error)
    return FailureOutcome(False, True, paused_now, note)


def auto_pause_workflow(
    db: Database,
    wf_id: int,
    name: str,
    category: str,
    owner: str | None,
    *,
    reason: str,
    cause: str,
    run_id: int | None = None,
    details: dict | None = None,
) -> tuple[int, int]:
    """Inside a transaction: pause a workflow by policy, audited and notified, never
    silently. Returns (audit event id, notification id)."""
    event = NewEvent(
        actor=POLICY_ACTOR,
        action=AuditAction.WORKFLOW_AUTO_PAUSED,
        subject=name,
        category=category,
        workflow=name,
        run=run_id,
        reason=reason,
        details={"cause": cause, **(details or {})},
    )
    appended = gate.change_workflow(
        db,
        wf_id,
        events=event,
        paused=(False, True),
        paused_by=POLICY_ACTOR,
        paused_reason=reason,
        paused_at=utcnow(),
    )
    if appended is None:  # paused meanwhile: that pause stands, told already
        return 0, 0
    event_id = appended[-1]
    note_id = record_notification(
        "warning",
        "auto_paused",
        f"{name} paused itself: {reason}",
        f"Owner: {owner or 'none'}. Review it, then resume it.",
        workflow=name,
        run=run_id,
        group_key=f"auto_paused:{name}",
    )
    return event_id, note_id


def record_final_failure(
    db: Database, run_id: int, error: str, *, attempts: int | None = None, kind: str | None = None
) -> tuple[bool, int]:
    """Inside a transaction: count the failure, notify once, apply the pause rule.

    Called after the last attempt only. `attempts`: how many the failing part made (the
    run's own by default); `kind`: the kind of the write that failed, if one did."""
    now = utcnow()
    run = Run.get_by_id(run_id)
    wf_model = Workflow.get_by_id(run.workflow_id)
    wf = load_workflow(wf_model)
    limit, _ = retry_policy(wf)
    failures = wf_model.consecutive_failures + 1
    pause = policy.should_pause_after_failure(failures, wf.definition.pause)
    Workflow.update(
        consecutive_failures=failures, last_failure_at=now, gate_tightened_at=now
    ).where(Workflow.id == wf.id).execute()
    tried = attempts_said(run.attempt if attempts is None else attempts, limit, kind)
    note = record_notification(
        "error",
        "run_failed",
        f"{wf.name}: run {run_id} failed",
        f"{error}\n{tried}; {failures} failed in a row.",
        workflow=wf.name,
        run=run_id,
        group_key=f"run_failed:{wf.name}",
    )
    paused_now = pause and not wf_model.paused
    if paused_now:
        auto_pause_workflow(
            db,
            wf.id,
            wf.name,
            wf.category,
            wf.definition.owner,
            reason=f"{failures} consecutive failed run{'' if failures == 1 else 's'}",
            cause="consecutive_failures",
            run_id=run_id,
            details={"failures": failures},
        )
    return paused_now, note


def cancel_run(db: Database, run_id: int, reason: str) -> bool:
    with queued_transaction(db):
        run = Run.get_by_id(run_id)
        if states.is_terminal_run(run.status) or run.status == RunStatus.HELD:
            return False
        now = utcnow()
        wf = Workflow.get_by_id(run.workflow_id)
        event = run_event(
            AuditAction.RUN_CANCELLED,
            run_id,
            workflow=wf.name,
            category=wf.category.name,
            reason=reason,
        )
        return gate.move_run(
            db,
            run_id,
            RunStatus(run.status),
            RunStatus.CANCELLED,
            events=event,
            finished_at=now,
            error=reason,
            duration_ms=_duration(run.started_at, now),
        )


def begin_apply(db: Database, write_id: int, claimer: str) -> tuple[Write | None, str | None]:
    """approved -> applying, re-checking every switch in the same transaction.

    Returns (the write, None) when it may be applied, (None, why not) otherwise.
    """
    with queued_transaction(db):
        w = Write.get_or_none(Write.id == write_id)
        if w is None or w.status != WriteStatus.APPROVED:
            return None, "not approved"
        if w.next_attempt_at is not None and w.next_attempt_at > utcnow():
            return None, f"its next attempt is due at {w.next_attempt_at:%H:%M:%S} UTC"
        wf = Workflow.get_by_id(w.workflow_id)
        sw = policy.blocking_switch(switch_states(db), category=w.category, effects=effects_of(w))
        if sw is not None:
            return None, policy.switch_refusal_text(sw)
        if wf.paused:
            return None, f"workflow {wf.name} is paused"
        event = write_event(
            AuditAction.WRITE_APPLYING,
            write_id,
            w.run_id,
            workflow=wf.name,
            category=w.category,
            details={"kind": w.kind, "target": w.target, "host": claimer},
        )
        moved = gate.move_write(
            db,
            write_id,
            WriteStatus.APPROVED,
            WriteStatus.APPLYING,
            events=event,
            claimed_by=claimer,
        )
        if not moved:
            return None, "taken by another engine"
        # No event of its own: the write's event says it (as it always has).
        gate.move_run(db, w.run_id, RunStatus.AWAITING_APPROVAL, RunStatus.APPLYING)
        return Write.get_by_id(write_id), None


_MOVING = (WriteStatus.APPROVED.value, WriteStatus.APPLYING.value)
_WAITING = tuple(sorted(s.value for s in states.RUN_OPEN_WRITE_STATUSES if s.value not in _MOVING))


def settle_runs(
    db: Database,
    run_ids,
    actor: str,
    *,
    failed_as: RunStatus = RunStatus.FAILED,
    reasons: Mapping[int, str] | None = None,
) -> list[NewEvent]:
    """Finish runs whose writes are all decided, audited; returns the events appended.

    `failed_as=RunStatus.CANCELLED`: a run that would fail only because a kill switch
    killed its writes is cancelled instead (DESIGN 3): no failure, no failure count."""
    events = []
    now = utcnow()
    open_runs = list(
        Run.select().where(
            Run.id.in_(list(set(run_ids))),
            Run.status.in_([RunStatus.AWAITING_APPROVAL.value, RunStatus.APPLYING.value]),
        )
    )
    # Most calls settle nothing (a batch of a long run): whether a run still has open
    # writes is an index seek per run; only a run with none left has its writes counted.
    flags = sql.open_writes(db, [run.id for run in open_runs], _MOVING, _WAITING)
    done = []
    for run in open_runs:
        moving, waiting = flags.get(run.id, (False, False))
        if not moving and not waiting:
            done.append(run)
        elif run.status == RunStatus.APPLYING and not moving:
            gate.move_run(db, run.id, RunStatus.APPLYING, RunStatus.AWAITING_APPROVAL)
    counts = _write_counts(db, [run.id for run in done])
    for run in done:
        statuses = list(counts.get(run.id, {}))
        total = sum(counts.get(run.id, {}).values())
        outcome = states.run_outcome(statuses)
        if outcome is None:  # not after the probe above, in the same transaction
            continue
        if outcome is RunStatus.FAILED:
            outcome = failed_as
        wf = Workflow.get_by_id(run.workflow_id)
        event = run_event(
            AuditAction.for_run(outcome),
            run.id,
            workflow=wf.name,
            category=wf.category.name,
            actor=actor,
            reason=(reasons or {}).get(run.id) if outcome is failed_as else None,
            details={"writes": total},
        )
        moved = gate.move_run(
            db,
            run.id,
            RunStatus(run.status),
            outcome,
            events=event,
            finished_at=now,
            duration_ms=_duration(run.started_at, now),
        )
        if not moved:
            continue
        if outcome is RunStatus.SUCCEEDED:
            Workflow.update(consecutive_failures=0).where(Workflow.id == wf.id).execute()
        events.append(event)
    return events


def _write_counts(db: Database, run_ids: list[int]) -> dict[int, dict[WriteStatus, int]]:
    """How many writes of each run are in each status: one aggregate query (reading
    every write of a run after each write made applying a run O(N^2))."""
    counts: dict[int, dict[WriteStatus, int]] = {}
    for start in range(0, len(run_ids), 500):
        chunk = run_ids[start : start + 500]
        query = (
            Write.select(Write.run, Write.status, fn.COUNT(Write.id))
            .where(Write.run.in_(chunk))
            .group_by(Write.run, Write.status)
            .tuples()
        )
        for run_id, status, n in query:
            counts.setdefault(run_id, {})[WriteStatus(status)] = n
    return counts


def finish_apply(
    db: Database,
    write_id: int,
    *,
    error: str | None = None,
    undo: dict | None = None,
    bytes_written: int = 0,
    cost: float = 0.0,
    interrupted: bool = False,
    retry: bool = True,
) -> str:
    """applying -> applied | failed, then settle the run. Returns the run status.

    A failed apply of a retryable kind with attempts left goes back to approved for
    its next attempt instead (no failure told or counted: the run stays open), unless
    `retry` is False (a kill switch stopped it). `interrupted`: the engine stopped
    while applying (shutdown): resumed or interrupted as after a crash, never failed."""
    new = WriteStatus.FAILED if error else WriteStatus.APPLIED
    with queued_transaction(db):
        w = Write.get_by_id(write_id)
        if w.status != WriteStatus.APPLYING:
            # Finished already: the monitor ends killed commands' writes in one batch.
            return Run.get_by_id(w.run_id).status
        wf = Workflow.get_by_id(w.workflow_id)
        if interrupted or (
            new is WriteStatus.FAILED
            and retry
            and schedule_write_retry(db, w, load_workflow(wf), error or "the write failed")
        ):
            if interrupted:
                resume_or_interrupt(db, w)
            _add_run_costs(w.run_id, bytes_written, 0.0)
            settle_runs(db, [w.run_id], ENGINE_ACTOR)
            return Run.get_by_id(w.run_id).status
        killed = new is WriteStatus.FAILED and not retry
        return _finish_applying(db, w, wf, new, error, undo, bytes_written, cost, killed)


def _finish_applying(
    db: Database,
    w: Write,
    wf: Workflow,
    new: WriteStatus,
    error: str | None,
    undo: dict | None,
    bytes_written: int,
    cost: float,
    killed: bool = False,
) -> str:
    """`killed`: a kill switch stopped it; its run is cancelled, not failed (DESIGN 3),
    as when the monitor ends killed commands in its batch."""
    now = utcnow()
    fields: dict = dict(error=error, claimed_by=None)
    if new is WriteStatus.APPLIED:
        fields.update(applied_at=now, undo=undo, cost=w.cost + cost)
    event = write_event(
        AuditAction.for_write(new),
        w.id,
        w.run_id,
        workflow=wf.name,
        category=w.category,
        reason=error,
        details={
            "kind": w.kind,
            "target": w.target,
            "bytes_written": bytes_written,
            "attempt": w.attempt,
        },
    )
    gate.move_write(db, w.id, WriteStatus.APPLYING, new, events=event, **fields)
    spent = cost if new is WriteStatus.APPLIED else 0.0
    _add_run_costs(w.run_id, bytes_written, spent)
    if killed:
        reasons = {w.run_id: error or "stopped by a kill switch"}
        settled = settle_runs(
            db, [w.run_id], ENGINE_ACTOR, failed_as=RunStatus.CANCELLED, reasons=reasons
        )
        if any(ev.action == AuditAction.RUN_CANCELLED for ev in settled):
            Run.update(error=reasons[w.run_id]).where(Run.id == w.run_id).execute()
    else:
        settle_runs(db, [w.run_id], ENGINE_ACTOR)
    if spent:
        check_budget(db, w.category, run_id=w.run_id)
    status = Run.get_by_id(w.run_id).status
    if status == RunStatus.FAILED:
        record_final_failure(
            db, w.run_id, error or "a write failed", attempts=w.attempt, kind=w.kind
        )
    return status


def _add_run_costs(run_id: int, bytes_written: int, spent: float) -> None:
    if bytes_written:
        Run.update(bytes_written=Run.bytes_written + bytes_written).where(
            Run.id == run_id
        ).execute()
    if spent:  # a cost the action reports only when applied counts towards budgets too
        Run.update(cost=Run.cost + spent).where(Run.id == run_id).execute()
