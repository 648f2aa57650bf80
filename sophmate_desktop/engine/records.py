"""The engine's database transactions. Each changes state and appends its audit
events in one write transaction; callers publish events after it commits.

(Workflows and switches are read in workflows.py; the names are re-exported here,
where the console and the tests look for them.)"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from peewee import Database, fn

from sophmate_desktop.domain import policy, states
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import EffectKind, RunStatus, WriteStatus
from sophmate_desktop.engine.actions import affected_records
from sophmate_desktop.engine.actions.base import PlannedWrite
from sophmate_desktop.engine.budget import check_budget
from sophmate_desktop.engine.fastsql import RawInsert, engine_transaction
from sophmate_desktop.engine.workflows import LoadedWorkflow as LoadedWorkflow
from sophmate_desktop.engine.workflows import WorkflowState as WorkflowState
from sophmate_desktop.engine.workflows import load_workflow as load_workflow
from sophmate_desktop.engine.workflows import load_workflow_by_id as load_workflow_by_id
from sophmate_desktop.engine.workflows import load_workflows as load_workflows
from sophmate_desktop.engine.workflows import switch_states as switch_states
from sophmate_desktop.engine.workflows import workflow_block as workflow_block
from sophmate_desktop.engine.workflows import workflow_states as workflow_states
from sophmate_desktop.store import audit
from sophmate_desktop.store.audit import NewEvent
from sophmate_desktop.store.database import is_sqlite
from sophmate_desktop.store.models import (
    Connection,
    LedgerEntry,
    Run,
    Workflow,
    Write,
)
from sophmate_desktop.store.notifications import record_notification

ENGINE_ACTOR = "engine"


@dataclass(frozen=True)
class Offer:
    workflow: str
    kind: str  # file | manual | schedule
    path: Path | None = None
    size: int | None = None
    mtime_ns: int | None = None
    sha256: str | None = None
    actor: str = ENGINE_ACTOR
    mode: str | None = None  # a manual dry run of a staged workflow


class Recorded(NamedTuple):
    run_id: int
    status: str  # queued | held, or running when it was started at once (`start`)
    workflow: str
    category: str


_RUN_INSERT = RawInsert(Run)
_LEDGER_INSERT = RawInsert(LedgerEntry, ignore_conflicts=True)


def record_offers(db: Database, offers: Sequence[Offer], host: str) -> list[tuple[int, str]]:
    """Create runs for new file versions (exactly once via the ledger), queued or held.

    Returns [(run_id, status)] for the runs created.
    """
    return [(r.run_id, r.status) for r in record_batch(db, offers, host)]


def record_batch(
    db: Database,
    offers: Sequence[Offer],
    host: str,
    *,
    start: int = 0,
    on_started: Callable[[list[Recorded]], None] | None = None,
) -> list[Recorded]:
    """`record_offers` in one transaction, and the first `start` queued runs started
    in it as well (queued -> running, claimed by `host`): for idle workers, so a run
    needs no second transaction and no queue hand-off before it starts.

    `on_started` gets the started runs before the commit, so that they are in flight
    (within a kill switch's reach) before anyone can see them running.
    """
    created: list[Recorded] = []
    events: list[NewEvent] = []
    links: list[tuple] = []
    started: list[int] = []
    now = utcnow()
    with engine_transaction(db):
        switches = switch_states()
        known = workflow_states({o.workflow for o in offers})
        cursor = db.cursor()
        try:
            for offer in offers:
                wf = known.get(offer.workflow)
                if wf is None:
                    continue
                path = str(offer.path) if offer.path else None
                if offer.kind == "file":
                    version = dict(
                        workflow=wf.id,
                        path=path,
                        size=offer.size,
                        mtime_ns=offer.mtime_ns,
                        sha256=offer.sha256,
                        at=now,
                    )
                    if not _LEDGER_INSERT.insert_counted(db, cursor, version):
                        continue  # this version already has its run
                blocked = workflow_block(wf, switches)
                status = RunStatus.HELD if blocked else RunStatus.QUEUED
                # A run started at once is queued and claimed in this one transaction:
                # its row is written running, its trail says queued, then started.
                begin = status is RunStatus.QUEUED and len(started) < start
                mode = offer.mode or wf.stage
                run_id = _RUN_INSERT.insert(
                    db,
                    cursor,
                    dict(
                        workflow=wf.id,
                        revision=wf.revision,
                        trigger_kind=offer.kind,
                        trigger_path=path,
                        trigger_size=offer.size,
                        trigger_mtime=offer.mtime_ns / 1e9 if offer.mtime_ns else None,
                        trigger_hash=offer.sha256,
                        mode=mode,
                        status=(RunStatus.RUNNING if begin else status).value,
                        queued_at=now,
                        started_at=now if begin else None,
                        claimed_by=host if begin else None,
                        host=host,
                        created_by=offer.actor,
                    ),
                )
                assert run_id is not None
                if offer.kind == "file":
                    links.append((run_id, wf.id, path, offer.size, offer.mtime_ns))
                events.append(
                    NewEvent(
                        actor=offer.actor,
                        action=f"run.{status.value}",
                        subject=f"run {run_id}",
                        category=wf.category,
                        workflow=wf.name,
                        run=run_id,
                        reason=blocked,
                        details={
                            "trigger": offer.kind,
                            "path": path,
                            "size": offer.size,
                            "sha256": offer.sha256,
                            "mode": mode,
                        },
                    )
                )
                if begin:
                    status = states.check_run(status, RunStatus.RUNNING)
                    started.append(run_id)
                    events.append(_started_event(wf.name, wf.category, run_id, 1, mode, host))
                created.append(Recorded(run_id, status.value, wf.name, wf.category))
            if links:
                p = db.param
                cursor.executemany(
                    f'UPDATE "ledger_entry" SET "run_id" = {p} WHERE "workflow_id" = {p} '
                    f'AND "path" = {p} AND "size" = {p} AND "mtime_ns" = {p}',
                    links,
                )
        finally:
            cursor.close()
        if events:
            audit.append_many(events)
        if started and on_started is not None:
            on_started([r for r in created if r.status == RunStatus.RUNNING.value])
    return created


def _started_event(
    workflow: str, category: str, run_id: int, attempt: int, mode: str, host: str
) -> NewEvent:
    return NewEvent(
        actor=ENGINE_ACTOR,
        action="run.started",
        subject=f"run {run_id}",
        category=category,
        workflow=workflow,
        run=run_id,
        details={"attempt": attempt, "mode": mode, "host": host},
    )


def claim(
    db: Database,
    run_id: int,
    claimer: str,
    on_claimed: Callable[[LoadedWorkflow], None] | None = None,
) -> tuple[Run, LoadedWorkflow] | None:
    """queued -> running for a worker: the run and its workflow, or None if it is not
    queued now (taken by another worker or engine, or its backoff has not ended).
    `on_claimed` runs before the commit (see record_batch's `on_started`)."""
    now = utcnow()
    with engine_transaction(db):
        moved = (
            Run.update(status=RunStatus.RUNNING.value, started_at=now, claimed_by=claimer)
            .where(
                Run.id == run_id,
                Run.status == RunStatus.QUEUED.value,
                (Run.next_attempt_at.is_null()) | (Run.next_attempt_at <= now),
            )
            .execute()
        )
        if not moved:
            return None
        run = Run.get_by_id(run_id)
        wf = load_workflow_by_id(run.workflow_id)
        audit.append(_started_event(wf.name, wf.category, run_id, run.attempt, run.mode, claimer))
        if on_claimed is not None:
            on_claimed(wf)
    return run, wf


def claim_run(db: Database, run_id: int, claimer: str) -> bool:
    return claim(db, run_id, claimer) is not None


def next_queued(db: Database, limit: int = 50) -> list[int]:
    now = utcnow()
    query = (
        Run.select(Run.id)
        .where(
            Run.status == RunStatus.QUEUED.value,
            (Run.next_attempt_at.is_null()) | (Run.next_attempt_at <= now),
        )
        .order_by(Run.id)
        .limit(limit)
    )
    if not is_sqlite(db):
        query = query.for_update("FOR UPDATE SKIP LOCKED")
    return [r.id for r in query]


def next_retry_in(db: Database) -> float | None:
    """Seconds until the earliest queued run's backoff ends (None: no run waits)."""
    now = utcnow()
    due = (
        Run.select(fn.MIN(Run.next_attempt_at))
        .where(Run.status == RunStatus.QUEUED.value, Run.next_attempt_at > now)
        .scalar()
    )
    if due is None:
        return None
    if isinstance(due, str):  # SQLite returns MIN() of a DATETIME column as text
        due = Run.next_attempt_at.python_value(due)
    return max(0.0, (due - now).total_seconds())


def connection_settings(names: Iterable[str], mode: str) -> tuple[dict, dict]:
    """(settings by name for this mode, kinds by name). Staging uses staging settings only."""
    settings, kinds = {}, {}
    for conn in Connection.select().where(Connection.name.in_(list(names))):
        kinds[conn.name] = conn.kind
        if mode == "staging":
            chosen = dict(conn.staging_settings) if conn.staging_settings else {}
        else:
            chosen = dict(conn.settings)
        if chosen and conn.secret_ref:
            chosen["secret_ref"] = conn.secret_ref
        settings[conn.name] = chosen
    return settings, kinds


def store_plan(
    db: Database,
    run_id: int,
    wf: LoadedWorkflow,
    planned: Sequence[PlannedWrite],
    bytes_read: int,
    clean_runs: int,
) -> tuple[str, list[int]]:
    """Record a run's planned writes and decide each per the approval gate.

    Returns (new run status, ids of writes approved by the gate for applying).
    """
    now = utcnow()
    rows, events, auto = [], [], []
    with engine_transaction(db):
        run = Run.get_by_id(run_id)
        if run.status != RunStatus.RUNNING:
            return run.status, []
        mode = run.mode
        tightened = wf.gate_tightened_at is not None
        for seq, pw in enumerate(planned, start=1):
            if mode == "dry_run" or not pw.sendable:
                status, decided_by = WriteStatus.PLANNED, None
                reason = (
                    "dry run: planned only"
                    if mode == "dry_run"
                    else "no staging settings for this connection: previewed, never sent"
                )
            else:
                gate = policy.approval_decision(
                    mode=mode,
                    approval=wf.definition.approval,
                    customer_facing=pw.customer_facing,
                    clean_approved_runs=clean_runs,
                    gate_tightened=tightened and clean_runs == 0,
                )
                status = WriteStatus.PENDING if gate.needs_approval else WriteStatus.APPROVED
                decided_by = None if gate.needs_approval else "policy:gate"
                reason = gate.reason
            states.check_write(None, status)
            rows.append(
                dict(
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
                )
            )
        if rows:
            for start in range(0, len(rows), 500):
                Write.insert_many(rows[start : start + 500]).execute()
        statuses = [WriteStatus(r["status"]) for r in rows]
        pending = statuses.count(WriteStatus.PENDING)
        approved = statuses.count(WriteStatus.APPROVED)
        if pending:
            new = RunStatus.AWAITING_APPROVAL
        elif approved:
            new = RunStatus.APPLYING
        else:
            new = RunStatus.SUCCEEDED
        states.check_run(RunStatus.RUNNING, new)
        fields = dict(
            status=new.value,
            bytes_read=bytes_read,
            actions=len(rows),
            affected_records=affected_records(planned),
            cost=sum(p.cost for p in planned),
        )
        if new is RunStatus.SUCCEEDED:
            fields.update(finished_at=now, duration_ms=_duration(run.started_at, now))
        Run.update(**fields).where(Run.id == run_id).execute()
        events.append(
            NewEvent(
                actor=ENGINE_ACTOR,
                action="run.planned",
                subject=f"run {run_id}",
                category=wf.category,
                workflow=wf.name,
                run=run_id,
                details={
                    "writes": len(rows),
                    "pending": pending,
                    "auto_approved": approved,
                    "planned_only": statuses.count(WriteStatus.PLANNED),
                    "affected_records": fields["affected_records"],
                },
            )
        )
        if new is RunStatus.SUCCEEDED:
            events.append(_succeeded_event(wf, run_id))
            Workflow.update(consecutive_failures=0).where(Workflow.id == wf.id).execute()
        if pending:
            total = Write.select().where(Write.status == WriteStatus.PENDING.value).count()
            record_notification(
                "info",
                "writes_pending",
                f"{total} writes await approval",
                f"Latest: {pending} from {wf.name} (run {run_id}).",
                group_key="writes_pending",
                replace_count=total,
                run=run_id,
            )
        audit.append_many(events)
        if fields["cost"]:
            check_budget(wf.category, run_id=run_id)
        if approved:
            auto = [
                w.id
                for w in Write.select(Write.id).where(
                    Write.run == run_id, Write.status == WriteStatus.APPROVED.value
                )
            ]
    return new.value, auto


def _duration(started, finished) -> int | None:
    if started is None:
        return None
    return int((finished - started).total_seconds() * 1000)


def _succeeded_event(wf: LoadedWorkflow, run_id: int) -> NewEvent:
    return NewEvent(
        actor=ENGINE_ACTOR,
        action="run.succeeded",
        subject=f"run {run_id}",
        category=wf.category,
        workflow=wf.name,
        run=run_id,
    )


def effects_of(write: Write) -> list[EffectKind]:
    effects = [EffectKind(write.effect)]
    if write.customer_facing:
        effects.append(EffectKind.CUSTOMER_FACING)
    return effects
