"""Runs claimed by workers and their plans recorded, several runs per transaction: a
worker claims what is queued for it in one transaction and records the plans of a
batch in one more (the statements, the write lock and the audit chain's head are paid
once per batch, not once per run). Each function changes state through the gate and
appends its audit events in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from peewee import Database

from sophmate_desktop.domain import policy, states
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import EffectKind, RunStatus, WriteStatus
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.domain.run_account import plural
from sophmate_desktop.store import audit, sql
from sophmate_desktop.store.audit import NewEvent
from sophmate_desktop.store.models import Run, Workflow, Write
from sophmate_desktop.store.notifications import record_notification
from sophmate_desktop.store.sql import RawInsert, id_list, queued_transaction
from sophmate_desktop.store.transitions import gate
from sophmate_desktop.store.transitions.budget import check_budget
from sophmate_desktop.store.transitions.events import run_event
from sophmate_desktop.store.transitions.prompt_calls import insert_prompt_calls, prompt_cost
from sophmate_desktop.store.workflows import LoadedWorkflow, load_workflows_by_id

_WRITE_INSERT = RawInsert(Write)


def started_event(
    workflow: str, category: str, run_id: int, attempt: int, mode: str, host: str
) -> NewEvent:
    return run_event(
        AuditAction.RUN_STARTED,
        run_id,
        workflow=workflow,
        category=category,
        details={"attempt": attempt, "mode": mode, "host": host},
    )


@dataclass(frozen=True)
class ClaimedRun:
    """What planning reads of a run. Not a Run model: building one converts every
    column (four timestamps, the diagnostics JSON), 30 us a run against 5 for these
    (a sixth of a dry run's claim in bench.burst)."""

    id: int
    workflow_id: int
    attempt: int
    mode: str
    trigger_path: str | None
    trigger_size: int | None
    trigger_mtime: float | None
    trigger_hash: str | None


_CLAIMED_COLUMNS = (
    Run.id,
    Run.workflow,
    Run.attempt,
    Run.mode,
    Run.trigger_path,
    Run.trigger_size,
    Run.trigger_mtime,
    Run.trigger_hash,
)


def load_runs(db: Database, run_ids: Sequence[int]) -> list[tuple[ClaimedRun, LoadedWorkflow]]:
    """The runs (in id order) with their workflows: two queries for the batch."""
    if not run_ids:
        return []
    query = (
        Run.select(*_CLAIMED_COLUMNS)
        .where(Run.id.in_(id_list(db, list(run_ids))))
        .order_by(Run.id)
        .tuples()
    )
    runs = [ClaimedRun(*row) for row in query]
    wfs = load_workflows_by_id(db, {r.workflow_id for r in runs})
    return [(r, wfs[r.workflow_id]) for r in runs]


def claim_many(
    db: Database,
    run_ids: Sequence[int],
    claimer: str,
    on_claimed: Callable[[ClaimedRun, LoadedWorkflow], None] | None = None,
) -> list[tuple[ClaimedRun, LoadedWorkflow]]:
    """queued -> running for a worker, in one transaction: the runs moved (others were
    taken by another worker or engine, or their backoff has not ended) with their
    workflows. `on_claimed` runs for each before the commit."""
    if not run_ids:
        return []
    now = utcnow()
    with queued_transaction(db):
        due = (Run.next_attempt_at.is_null()) | (Run.next_attempt_at <= now)
        moved = gate.move_runs(
            db,
            run_ids,
            RunStatus.QUEUED,
            RunStatus.RUNNING,
            where=[due],
            started_at=now,
            claimed_by=claimer,
        )
        claimed = load_runs(db, moved)
        audit.append_many(
            db,
            [
                started_event(wf.name, wf.category, run.id, run.attempt, run.mode, claimer)
                for run, wf in claimed
            ],
        )
        if on_claimed is not None:
            for run, wf in claimed:
                on_claimed(run, wf)
    return claimed


class PlannedWrite(Protocol):
    """What planning hands over of one write (engine.actions.base.PlannedWrite)."""

    kind: str
    effect: EffectKind
    target: str
    summary: str
    preview: str
    payload: dict
    customer_facing: bool
    sendable: bool
    cost: float
    ai_drafted: bool


@dataclass
class Plan:
    """One run's plan to record."""

    run_id: int
    wf: LoadedWorkflow
    planned: Sequence[PlannedWrite]
    bytes_read: int
    clean_runs: int
    affected: int = 0
    calls: Sequence[dict] = ()  # prompt steps' calls (transitions/prompt_calls.py)


@dataclass
class _Decided:
    plan: Plan
    mode: str
    started_at: object
    rows: list[dict]
    new: RunStatus
    counts: dict[str, int]


def store_plans(db: Database, plans: Sequence[Plan]) -> dict[int, tuple[str, list[int]]]:
    """Record the planned writes of several runs and decide each per the approval gate,
    in one transaction. Returns {run id: (new status, ids of writes the gate approved)};
    a run no longer running keeps its status and gets no writes."""
    if not plans:
        return {}
    now = utcnow()
    out: dict[int, tuple[str, list[int]]] = {}
    with queued_transaction(db):
        found = {
            run_id: (status, mode, started)
            for run_id, status, mode, started in sql.run_states(db, [p.run_id for p in plans])
        }
        decided: list[_Decided] = []
        for p in plans:
            status, mode, started = found[p.run_id]
            if status != RunStatus.RUNNING.value:
                out[p.run_id] = (status, [])
                continue
            decided.append(_decide(p, mode, Run.started_at.python_value(started), now))
        _insert_writes(db, [row for d in decided for row in d.rows])
        prompt_costs = _insert_calls(db, decided)
        _move_planned(db, decided, now, prompt_costs)
        for d in decided:
            out[d.plan.run_id] = (d.new.value, [])
            if d.counts["pending"]:
                _notify_pending(d.plan.wf, d.plan.run_id, d.counts["pending"])
            if any(pw.cost for pw in d.plan.planned) or prompt_costs.get(d.plan.run_id):
                check_budget(db, d.plan.wf.category, run_id=d.plan.run_id)
        approving = [d.plan.run_id for d in decided if d.counts["auto_approved"]]
        if approving:
            for write_id, run_id in sql.approved_writes_of(db, approving):
                out[run_id][1].append(write_id)
    return out


def _decide(p: Plan, mode: str, started_at, now) -> _Decided:
    rows = [
        _write_row(p.run_id, p.wf, seq, pw, now, _gate(mode, p.wf, pw, p.clean_runs))
        for seq, pw in enumerate(p.planned, start=1)
    ]
    statuses = [r["status"] for r in rows]
    counts = {
        "writes": len(rows),
        "pending": statuses.count(WriteStatus.PENDING.value),
        "auto_approved": statuses.count(WriteStatus.APPROVED.value),
        "planned_only": statuses.count(WriteStatus.PLANNED.value),
        "affected_records": p.affected,
    }
    new = _planned_status(counts["pending"], counts["auto_approved"])
    return _Decided(p, mode, started_at, rows, new, counts)


def _insert_calls(db: Database, decided: list[_Decided]) -> dict[int, float]:
    """The prompt calls of the runs with their events; {run id: what every recorded
    call of the run cost, earlier attempts included}."""
    costs: dict[int, float] = {}
    for d in decided:
        p = d.plan
        if p.calls:
            insert_prompt_calls(db, p.run_id, p.wf.name, p.wf.category, p.calls)
        if p.calls or (p.wf.definition.prompts and p.wf.definition.retry):
            costs[p.run_id] = prompt_cost(p.run_id)
    return costs


def _insert_writes(db: Database, rows: list[dict]) -> None:
    if not rows:
        return
    cursor = db.cursor()
    try:
        for start in range(0, len(rows), sql.CHUNK):
            _WRITE_INSERT.insert_many(db, cursor, rows[start : start + sql.CHUNK])
    finally:
        cursor.close()


def _move_planned(
    db: Database, decided: list[_Decided], now, prompt_costs: dict[int, float]
) -> None:
    """Each run to its planned status through the gate (one update per status), its
    figures in one statement, and the events of exactly the runs that moved."""
    figures = []
    for d in decided:
        duration = None
        if d.new is RunStatus.SUCCEEDED:
            duration = _duration(d.started_at, now)
        cost = sum(pw.cost for pw in d.plan.planned) + prompt_costs.get(d.plan.run_id, 0.0)
        figures.append(
            (d.plan.bytes_read, len(d.rows), d.plan.affected, cost, duration, d.plan.run_id)
        )
    sql.set_run_figures(db, figures)
    by_status: dict[RunStatus, list[_Decided]] = {}
    for d in decided:
        by_status.setdefault(d.new, []).append(d)
    for new, group in by_status.items():
        events = {d.plan.run_id: _plan_events(d) for d in group}
        fields = {"finished_at": now} if new is RunStatus.SUCCEEDED else {}
        gate.move_runs(
            db,
            list(events),
            RunStatus.RUNNING,
            new,
            events=lambda moved, ev=events: [e for run_id in moved for e in ev[run_id]],
            **fields,
        )
        if new is RunStatus.SUCCEEDED:
            for wf_id in {d.plan.wf.id for d in group}:
                Workflow.update(consecutive_failures=0).where(
                    Workflow.id == wf_id, Workflow.consecutive_failures != 0
                ).execute()


def _plan_events(d: _Decided) -> list[NewEvent]:
    wf, run_id = d.plan.wf, d.plan.run_id
    events = [
        run_event(
            AuditAction.RUN_PLANNED,
            run_id,
            workflow=wf.name,
            category=wf.category,
            details=dict(d.counts),
        )
    ]
    if d.new is RunStatus.SUCCEEDED:
        events.append(
            run_event(AuditAction.RUN_SUCCEEDED, run_id, workflow=wf.name, category=wf.category)
        )
    return events


def _gate(
    mode: str, wf: LoadedWorkflow, pw: PlannedWrite, clean_runs: int
) -> tuple[WriteStatus, str | None, str]:
    """(status, decided_by, reason) of one planned write under the approval gate."""
    if mode == "dry_run":
        return WriteStatus.PLANNED, None, "dry run: planned only"
    if not pw.sendable:
        return (
            WriteStatus.PLANNED,
            None,
            "no staging settings for this connection: previewed, never sent",
        )
    decision = policy.approval_decision(
        mode=mode,
        approval=wf.definition.approval,
        customer_facing=pw.customer_facing,
        ai_drafted=pw.ai_drafted,
        clean_approved_runs=clean_runs,
        gate_tightened=wf.gate_tightened_at is not None and clean_runs == 0,
    )
    if decision.needs_approval:
        return WriteStatus.PENDING, None, decision.reason
    return WriteStatus.APPROVED, "policy:gate", decision.reason


def _write_row(
    run_id: int, wf: LoadedWorkflow, seq: int, pw: PlannedWrite, now, decision: tuple
) -> dict:
    status, decided_by, reason = decision
    states.check_write(None, status)
    return dict(
        run=run_id,
        workflow=wf.id,
        category=wf.category,
        seq=seq,
        kind=pw.kind,
        effect=pw.effect.value,
        target=pw.target,
        summary=pw.summary,
        preview=pw.preview,
        payload=pw.payload,
        customer_facing=pw.customer_facing,
        status=status.value,
        decided_by=decided_by,
        decided_at=now if decided_by else None,
        idempotency_key=f"{run_id}-{seq}-{uuid.uuid4().hex[:16]}",
        created_at=now,
        cost=pw.cost,
        comment=reason,
        ai_drafted=pw.ai_drafted,
    )


def _planned_status(pending: int, approved: int) -> RunStatus:
    if pending:
        return RunStatus.AWAITING_APPROVAL
    if approved:
        return RunStatus.APPLYING
    return RunStatus.SUCCEEDED


def _notify_pending(wf: LoadedWorkflow, run_id: int, pending: int) -> None:
    total = Write.select().where(Write.status == WriteStatus.PENDING.value).count()
    record_notification(
        "info",
        "writes_pending",
        plural(total, "write awaits approval", "writes await approval"),
        f"Latest: {pending} from {wf.name} (run {run_id}).",
        group_key="writes_pending",
        replace_count=total,
        run=run_id,
    )


def _duration(started, finished) -> int | None:
    if started is None:
        return None
    return int((finished - started).total_seconds() * 1000)
