"""The engine's database transactions. Each changes state and appends its audit
events in one write transaction; callers publish events after it commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from peewee import Database

from sophmate_desktop.domain import policy, states
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import EffectKind, RunStatus, SwitchScope, WriteStatus
from sophmate_desktop.domain.workflow import WorkflowDefinition
from sophmate_desktop.domain.workflow_file import definition_from_dict
from sophmate_desktop.engine.actions.base import PlannedWrite
from sophmate_desktop.store import audit
from sophmate_desktop.store.audit import NewEvent
from sophmate_desktop.store.database import is_sqlite, write_transaction
from sophmate_desktop.store.models import (
    Category,
    Connection,
    LedgerEntry,
    Run,
    Switch,
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


@dataclass(frozen=True)
class LoadedWorkflow:
    id: int
    name: str
    category: str
    stage: str
    revision: int
    enabled: bool
    paused: bool
    paused_reason: str | None
    definition: WorkflowDefinition
    plugin_versions: dict
    gate_tightened_at: object
    consecutive_failures: int


def load_workflow(wf: Workflow, category: str | None = None) -> LoadedWorkflow:
    return LoadedWorkflow(
        id=wf.id,
        name=wf.name,
        category=category or wf.category.name,
        stage=wf.stage,
        revision=wf.revision,
        enabled=wf.enabled,
        paused=wf.paused,
        paused_reason=wf.paused_reason,
        definition=definition_from_dict(wf.definition),
        plugin_versions=dict(wf.plugin_versions or {}),
        gate_tightened_at=wf.gate_tightened_at,
        consecutive_failures=wf.consecutive_failures,
    )


def load_workflows(enabled_only: bool = False) -> list[LoadedWorkflow]:
    query = Workflow.select(Workflow, Category.name.alias("cat")).join(Category)
    if enabled_only:
        query = query.where(Workflow.enabled == True)
    return [load_workflow(wf, wf.cat) for wf in query.objects()]


def switch_states() -> list[policy.SwitchState]:
    out = [
        policy.SwitchState(
            SwitchScope(s.scope), s.name, s.paused, s.paused_by, s.paused_reason, s.paused_at
        )
        for s in Switch.select().where(Switch.paused)
    ]
    out += [
        policy.SwitchState(
            SwitchScope.CATEGORY, c.name, c.paused, c.paused_by, c.paused_reason, c.paused_at
        )
        for c in Category.select().where(Category.paused)
    ]
    return out


def workflow_block(wf: LoadedWorkflow, switches: Sequence[policy.SwitchState]) -> str | None:
    """Why a new run of `wf` may not start now (None: it may)."""
    sw = policy.blocking_switch(switches, category=wf.category, effects=())
    if sw is not None:
        return policy.switch_refusal_text(sw)
    if wf.paused:
        return f"workflow {wf.name} is paused: {wf.paused_reason or 'no reason given'}"
    return None


def record_offers(db: Database, offers: Sequence[Offer], host: str) -> list[tuple[int, str]]:
    """Create runs for new file versions (exactly once via the ledger), queued or held.

    Returns [(run_id, status)] for the runs created.
    """
    created: list[tuple[int, str]] = []
    events: list[NewEvent] = []
    now = utcnow()
    with write_transaction(db):
        switches = switch_states()
        cache: dict[str, LoadedWorkflow | None] = {}
        for offer in offers:
            if offer.workflow not in cache:
                row = (
                    Workflow.select(Workflow, Category.name.alias("cat"))
                    .join(Category)
                    .where(Workflow.name == offer.workflow)
                    .objects()
                    .first()
                )
                cache[offer.workflow] = load_workflow(row, row.cat) if row else None
            wf = cache[offer.workflow]
            if wf is None:
                continue
            if offer.kind == "file":
                inserted = (
                    LedgerEntry.insert(
                        workflow=wf.id,
                        path=str(offer.path),
                        size=offer.size,
                        mtime_ns=offer.mtime_ns,
                        sha256=offer.sha256,
                        at=now,
                    )
                    .on_conflict_ignore()
                    .as_rowcount()
                    .execute()
                )
                if not inserted:
                    continue
            blocked = workflow_block(wf, switches)
            status = RunStatus.HELD if blocked else RunStatus.QUEUED
            run = Run.create(
                workflow=wf.id,
                revision=wf.revision,
                trigger_kind=offer.kind,
                trigger_path=str(offer.path) if offer.path else None,
                trigger_size=offer.size,
                trigger_mtime=offer.mtime_ns / 1e9 if offer.mtime_ns else None,
                trigger_hash=offer.sha256,
                mode=offer.mode or wf.stage,
                status=status.value,
                queued_at=now,
                host=host,
                created_by=offer.actor,
            )
            if offer.kind == "file":
                LedgerEntry.update(run_id=run.id).where(
                    LedgerEntry.workflow == wf.id,
                    LedgerEntry.path == str(offer.path),
                    LedgerEntry.size == offer.size,
                    LedgerEntry.mtime_ns == offer.mtime_ns,
                ).execute()
            events.append(
                NewEvent(
                    actor=offer.actor,
                    action=f"run.{status.value}",
                    subject=f"run {run.id}",
                    category=wf.category,
                    workflow=wf.name,
                    run=run.id,
                    reason=blocked,
                    details={
                        "trigger": offer.kind,
                        "path": str(offer.path) if offer.path else None,
                        "size": offer.size,
                        "sha256": offer.sha256,
                        "mode": offer.mode or wf.stage,
                    },
                )
            )
            created.append((run.id, status.value))
        if events:
            audit.append_many(events)
    return created


def claim_run(db: Database, run_id: int, claimer: str) -> bool:
    now = utcnow()
    with write_transaction(db):
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
            return False
        run = Run.get_by_id(run_id)
        wf = Workflow.get_by_id(run.workflow_id)
        audit.append(
            actor=ENGINE_ACTOR,
            action="run.started",
            subject=f"run {run_id}",
            category=wf.category.name,
            workflow=wf.name,
            run=run_id,
            details={"attempt": run.attempt, "mode": run.mode, "host": claimer},
        )
    return True


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
    with write_transaction(db):
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
            affected_records=sum(p.records for p in planned),
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
