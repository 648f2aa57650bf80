"""How runs and writes end: failure (with retries and the pause rule), cancellation,
applying a write (switches re-checked in the same transaction), crash recovery."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from peewee import Database

from sophmate_desktop.domain import policy, states
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import IDEMPOTENT_WRITE_KINDS, RunStatus, WriteStatus
from sophmate_desktop.engine.budget import check_budget
from sophmate_desktop.engine.fastsql import engine_transaction
from sophmate_desktop.engine.records import (
    ENGINE_ACTOR,
    _duration,
    effects_of,
    load_workflow,
    switch_states,
)
from sophmate_desktop.store import audit
from sophmate_desktop.store.audit import NewEvent
from sophmate_desktop.store.models import Run, Workflow, Write
from sophmate_desktop.store.notifications import record_notification

OPEN_WRITES = [s.value for s in states.RUN_OPEN_WRITE_STATUSES]


@dataclass(frozen=True)
class FailureOutcome:
    retried: bool
    final: bool
    paused: bool
    notified: int | None  # notification id (only after the last retry)


def fail_run(db: Database, run_id: int, error: str, diagnostics: dict) -> FailureOutcome:
    """A run failed: retry with backoff, or fail it for good and apply the pause rule."""
    now = utcnow()
    with engine_transaction(db):
        run = Run.get_by_id(run_id)
        wf_model = Workflow.get_by_id(run.workflow_id)
        wf = load_workflow(wf_model)
        retry = wf.definition.retry
        limit = retry.limit if retry else 0
        events = []
        if run.status == RunStatus.RUNNING and run.attempt <= limit:
            backoff = retry.backoff_s if retry else 0
            Run.update(
                status=RunStatus.QUEUED.value,
                attempt=run.attempt + 1,
                error=error,
                diagnostics=diagnostics,
                next_attempt_at=now + dt.timedelta(seconds=backoff),
            ).where(Run.id == run_id).execute()
            audit.append(
                actor=ENGINE_ACTOR,
                action="run.retry_scheduled",
                subject=f"run {run_id}",
                category=wf.category,
                workflow=wf.name,
                run=run_id,
                reason=error,
                details={
                    "attempt": run.attempt,
                    "next_attempt": run.attempt + 1,
                    "limit": limit,
                    "backoff_s": backoff,
                },
            )
            return FailureOutcome(True, False, False, None)
        states.check_run(RunStatus(run.status), RunStatus.FAILED)
        Run.update(
            status=RunStatus.FAILED.value,
            error=error,
            diagnostics=diagnostics,
            finished_at=now,
            duration_ms=_duration(run.started_at, now),
        ).where(Run.id == run_id).execute()
        events.append(
            NewEvent(
                actor=ENGINE_ACTOR,
                action="run.failed",
                subject=f"run {run_id}",
                category=wf.category,
                workflow=wf.name,
                run=run_id,
                reason=error,
                details={"attempt": run.attempt},
            )
        )
        audit.append_many(events)
        paused_now, note = record_final_failure(run_id, error)
    return FailureOutcome(False, True, paused_now, note)


def auto_pause_workflow(
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
    Workflow.update(
        paused=True, paused_by="policy", paused_reason=reason, paused_at=utcnow()
    ).where(Workflow.id == wf_id).execute()
    event_id = audit.append(
        actor="policy",
        action="workflow.auto_paused",
        subject=name,
        category=category,
        workflow=name,
        run=run_id,
        reason=reason,
        details={"cause": cause, **(details or {})},
    )
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


def record_final_failure(run_id: int, error: str) -> tuple[bool, int]:
    """Inside a transaction: count the failure, notify once, apply the pause rule."""
    now = utcnow()
    run = Run.get_by_id(run_id)
    wf_model = Workflow.get_by_id(run.workflow_id)
    wf = load_workflow(wf_model)
    limit = wf.definition.retry.limit if wf.definition.retry else 0
    failures = wf_model.consecutive_failures + 1
    pause = policy.should_pause_after_failure(failures, wf.definition.pause)
    Workflow.update(
        consecutive_failures=failures, last_failure_at=now, gate_tightened_at=now
    ).where(Workflow.id == wf.id).execute()
    note = record_notification(
        "error",
        "run_failed",
        f"{wf.name}: run {run_id} failed",
        f"{error}\nAttempt {run.attempt} of {limit + 1}; {failures} failed in a row.",
        workflow=wf.name,
        run=run_id,
        group_key=f"run_failed:{wf.name}",
    )
    paused_now = pause and not wf_model.paused
    if paused_now:
        auto_pause_workflow(
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
    with engine_transaction(db):
        run = Run.get_by_id(run_id)
        if states.is_terminal_run(run.status) or run.status == RunStatus.HELD:
            return False
        states.check_run(RunStatus(run.status), RunStatus.CANCELLED)
        now = utcnow()
        Run.update(
            status=RunStatus.CANCELLED.value,
            finished_at=now,
            error=reason,
            duration_ms=_duration(run.started_at, now),
        ).where(Run.id == run_id).execute()
        wf = Workflow.get_by_id(run.workflow_id)
        audit.append(
            actor=ENGINE_ACTOR,
            action="run.cancelled",
            subject=f"run {run_id}",
            category=wf.category.name,
            workflow=wf.name,
            run=run_id,
            reason=reason,
        )
    return True


def begin_apply(db: Database, write_id: int, claimer: str) -> tuple[Write | None, str | None]:
    """approved -> applying, re-checking every switch in the same transaction.

    Returns (the write, None) when it may be applied, (None, why not) otherwise.
    """
    with engine_transaction(db):
        w = Write.get_or_none(Write.id == write_id)
        if w is None or w.status != WriteStatus.APPROVED:
            return None, "not approved"
        wf = Workflow.get_by_id(w.workflow_id)
        sw = policy.blocking_switch(switch_states(), category=w.category, effects=effects_of(w))
        if sw is not None:
            return None, policy.switch_refusal_text(sw)
        if wf.paused:
            return None, f"workflow {wf.name} is paused"
        moved = (
            Write.update(status=WriteStatus.APPLYING.value, claimed_by=claimer)
            .where(Write.id == write_id, Write.status == WriteStatus.APPROVED.value)
            .execute()
        )
        if not moved:
            return None, "taken by another engine"
        run = Run.get_by_id(w.run_id)
        if run.status == RunStatus.AWAITING_APPROVAL:
            Run.update(status=RunStatus.APPLYING.value).where(Run.id == run.id).execute()
        audit.append(
            actor=ENGINE_ACTOR,
            action="write.applying",
            subject=f"write {write_id}",
            category=w.category,
            workflow=wf.name,
            run=w.run_id,
            details={"kind": w.kind, "target": w.target, "host": claimer},
        )
        return Write.get_by_id(write_id), None


def settle_runs(
    run_ids,
    actor: str,
    *,
    failed_as: RunStatus = RunStatus.FAILED,
    reasons: Mapping[int, str] | None = None,
) -> list[NewEvent]:
    """Finish runs whose writes are all decided; returns their audit events (to append).

    `failed_as=RunStatus.CANCELLED`: a run that would fail only because a kill switch
    killed its writes is cancelled instead (DESIGN 3): no failure, no failure count."""
    events = []
    now = utcnow()
    for run in Run.select().where(Run.id.in_(list(set(run_ids)))):
        if run.status not in (RunStatus.AWAITING_APPROVAL, RunStatus.APPLYING):
            continue
        statuses = [
            WriteStatus(s)
            for (s,) in Write.select(Write.status).where(Write.run == run.id).tuples()
        ]
        outcome = states.run_outcome(statuses)
        if outcome is None:
            if run.status == RunStatus.APPLYING and not any(
                s in (WriteStatus.APPROVED, WriteStatus.APPLYING) for s in statuses
            ):
                Run.update(status=RunStatus.AWAITING_APPROVAL.value).where(
                    Run.id == run.id
                ).execute()
            continue
        if outcome is RunStatus.FAILED:
            outcome = failed_as
        states.check_run(RunStatus(run.status), outcome)
        updated = (
            Run.update(
                status=outcome.value, finished_at=now, duration_ms=_duration(run.started_at, now)
            )
            .where(Run.id == run.id, Run.status == run.status)
            .execute()
        )
        if not updated:
            continue
        wf = Workflow.get_by_id(run.workflow_id)
        if outcome is RunStatus.SUCCEEDED:
            Workflow.update(consecutive_failures=0).where(Workflow.id == wf.id).execute()
        events.append(
            NewEvent(
                actor=actor,
                action=f"run.{outcome.value}",
                subject=f"run {run.id}",
                category=wf.category.name,
                workflow=wf.name,
                run=run.id,
                details={"writes": len(statuses)},
                reason=(reasons or {}).get(run.id) if outcome is failed_as else None,
            )
        )
    return events


def finish_apply(
    db: Database,
    write_id: int,
    *,
    error: str | None = None,
    undo: dict | None = None,
    bytes_written: int = 0,
    cost: float = 0.0,
    interrupted: bool = False,
) -> str:
    """applying -> applied | failed | interrupted, then settle the run. Returns the run status."""
    now = utcnow()
    if interrupted:
        new = WriteStatus.INTERRUPTED
    else:
        new = WriteStatus.FAILED if error else WriteStatus.APPLIED
    with engine_transaction(db):
        w = Write.get_by_id(write_id)
        if w.status != WriteStatus.APPLYING:
            # Finished already: the monitor ends killed commands' writes in one batch.
            return Run.get_by_id(w.run_id).status
        states.check_write(WriteStatus(w.status), new)
        fields = dict(status=new.value, error=error, claimed_by=None)
        if new is WriteStatus.APPLIED:
            fields.update(applied_at=now, undo=undo, cost=w.cost + cost)
        Write.update(**fields).where(Write.id == write_id, Write.status == w.status).execute()
        if bytes_written:
            Run.update(bytes_written=Run.bytes_written + bytes_written).where(
                Run.id == w.run_id
            ).execute()
        spent = cost if new is WriteStatus.APPLIED else 0.0
        if spent:  # a cost the action reports only when applied counts towards budgets too
            Run.update(cost=Run.cost + spent).where(Run.id == w.run_id).execute()
        wf = Workflow.get_by_id(w.workflow_id)
        events = [
            NewEvent(
                actor=ENGINE_ACTOR,
                action=f"write.{new.value}",
                subject=f"write {write_id}",
                category=w.category,
                workflow=wf.name,
                run=w.run_id,
                reason=error,
                details={"kind": w.kind, "target": w.target, "bytes_written": bytes_written},
            )
        ]
        if new is WriteStatus.INTERRUPTED:
            record_notification(
                "warning",
                "write_interrupted",
                f"write {write_id} was interrupted",
                f"{w.kind} to {w.target}: check whether it took effect, then "
                "mark it applied or retry it in the inbox.",
                workflow=wf.name,
                run=w.run_id,
            )
        events += settle_runs([w.run_id], ENGINE_ACTOR)
        audit.append_many(events)
        if spent:
            check_budget(w.category, run_id=w.run_id)
        status = Run.get_by_id(w.run_id).status
        if status == RunStatus.FAILED:
            record_final_failure(w.run_id, error or "a write failed")
        return status


def recover(db: Database, host: str) -> dict[str, int]:
    """After a crash: requeue runs cut short while planning; finish idempotent writes,
    mark the others interrupted. Only records claimed on this host by a dead process."""
    import os

    counts = {"runs_requeued": 0, "writes_resumed": 0, "writes_interrupted": 0}
    hostname = host.split(":", 1)[0]

    def dead(claimer: str | None) -> bool:
        if not claimer:
            return True
        name, _, pid = claimer.partition(":")
        if name != hostname or not pid.isdigit():
            return False
        if int(pid) == os.getpid():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    with engine_transaction(db):
        events = []
        for run in Run.select().where(Run.status == RunStatus.RUNNING.value):
            if not dead(run.claimed_by):
                continue
            Run.update(status=RunStatus.QUEUED.value, claimed_by=None).where(
                Run.id == run.id, Run.status == RunStatus.RUNNING.value
            ).execute()
            wf = Workflow.get_by_id(run.workflow_id)
            events.append(
                NewEvent(
                    actor=ENGINE_ACTOR,
                    action="run.requeued",
                    subject=f"run {run.id}",
                    category=wf.category.name,
                    workflow=wf.name,
                    run=run.id,
                    reason=f"the engine {run.claimed_by} stopped while planning",
                )
            )
            counts["runs_requeued"] += 1
        for w in Write.select().where(Write.status == WriteStatus.APPLYING.value):
            if not dead(w.claimed_by):
                continue
            wf = Workflow.get_by_id(w.workflow_id)
            if w.kind in IDEMPOTENT_WRITE_KINDS:
                new, action = WriteStatus.APPROVED, "write.resumed"
                counts["writes_resumed"] += 1
            else:
                new, action = WriteStatus.INTERRUPTED, "write.interrupted"
                counts["writes_interrupted"] += 1
                record_notification(
                    "warning",
                    "write_interrupted",
                    f"write {w.id} was interrupted",
                    f"{w.kind} to {w.target} may or may not have taken effect: "
                    "check, then mark it applied or retry it in the inbox.",
                    workflow=wf.name,
                    run=w.run_id,
                )
            Write.update(status=new.value, claimed_by=None).where(
                Write.id == w.id, Write.status == WriteStatus.APPLYING.value
            ).execute()
            events.append(
                NewEvent(
                    actor=ENGINE_ACTOR,
                    action=action,
                    subject=f"write {w.id}",
                    category=w.category,
                    workflow=wf.name,
                    run=w.run_id,
                    reason=f"the engine {w.claimed_by} stopped while applying",
                    details={"kind": w.kind, "target": w.target},
                )
            )
        if events:
            audit.append_many(events)
    return counts


def host_id() -> str:
    import os

    return f"{socket.gethostname()}:{os.getpid()}"
