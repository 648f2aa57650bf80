"""How runs begin: offers recorded as runs (exactly once per file version, through the
ledger), claimed by a worker, planned into writes. Each function changes state and
appends its audit events in one write transaction; callers publish after the commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from peewee import Database, fn

from sophmate_desktop.domain import states
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import RunStatus, WriteStatus
from sophmate_desktop.domain.names import ENGINE_ACTOR, AuditAction
from sophmate_desktop.store import audit, sql
from sophmate_desktop.store.audit import NewEvent
from sophmate_desktop.store.database import is_sqlite
from sophmate_desktop.store.models import LedgerEntry, Run, Write
from sophmate_desktop.store.schedules import Slot, claim_slot, link_run
from sophmate_desktop.store.sql import RawInsert, queued_transaction
from sophmate_desktop.store.transitions.events import run_event
from sophmate_desktop.store.transitions.plans import (
    ClaimedRun,
    Plan,
    PlannedWrite,
    _duration,
    claim_many,
    started_event,
    store_plans,
)
from sophmate_desktop.store.transitions.refusals import fail_refused_run
from sophmate_desktop.store.workflows import (
    LoadedWorkflow,
    WorkflowState,
    switch_states,
    workflow_block,
    workflow_states,
)


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
    # Why this file version is refused (an undecodable name, a link outside the
    # folder): recorded once through the ledger as a failed run, with a notice.
    refused: str | None = None
    slot: Slot | None = None  # a time trigger's slot, claimed once (store/schedules.py)


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
    with queued_transaction(db):
        batch = _Batch(db, host, utcnow(), start)
        switches = switch_states(db)
        known = workflow_states(db, {o.workflow for o in offers})
        cursor = db.cursor()
        try:
            for offer in offers:
                wf = known.get(offer.workflow)
                if wf is not None:
                    batch.record(cursor, offer, wf, workflow_block(wf, switches))
            if batch.links:
                sql.link_ledger(db, cursor, batch.links)
        finally:
            cursor.close()
        if batch.events:
            audit.append_many(db, batch.events)
        batch.fail_refused()
        if batch.started and on_started is not None:
            on_started([r for r in batch.created if r.status == RunStatus.RUNNING.value])
    return batch.created


class _Batch:
    """The runs one `record_batch` creates, with their ledger links and audit events."""

    def __init__(self, db: Database, host: str, now, start: int) -> None:
        self.db, self.host, self.now, self.start = db, host, now, start
        self.created: list[Recorded] = []
        self.events: list[NewEvent] = []
        self.links: list[tuple] = []
        self.started: list[int] = []
        self.refused: list[tuple[int, WorkflowState, Offer]] = []

    def fail_refused(self) -> None:
        for run_id, wf, offer in self.refused:
            fail_refused_run(self.db, run_id, wf.name, wf.category, offer, self.now)

    def record(self, cursor: Any, offer: Offer, wf: WorkflowState, blocked: str | None) -> None:
        path = str(offer.path) if offer.path else None
        if offer.kind == "file" and not self._new_version(cursor, offer, wf, path):
            return  # this version already has its run
        slot = offer.slot
        if slot is not None:
            if not claim_slot(self.db, cursor, wf.id, slot, self.host, self.now):
                return  # decided already, here or by another engine
            if slot.skip:
                self.events.append(_skipped_event(wf, slot))
                return
        status = RunStatus.HELD if blocked and not offer.refused else RunStatus.QUEUED
        # A run started at once is queued and claimed in this one transaction:
        # its row is written running, its trail says queued, then started.
        begin = status is RunStatus.QUEUED and len(self.started) < self.start
        begin = begin and not offer.refused
        mode = offer.mode or wf.stage
        states.check_run(None, status)
        run_id = _RUN_INSERT.insert(
            self.db, cursor, self._run_row(offer, wf, path, mode, begin, status)
        )
        assert run_id is not None
        if offer.kind == "file":
            self.links.append((run_id, wf.id, path, offer.size, offer.mtime_ns))
        self.events.append(
            run_event(
                AuditAction.for_run(status),
                run_id,
                workflow=wf.name,
                category=wf.category,
                actor=offer.actor,
                reason=blocked,
                details={
                    "trigger": offer.kind,
                    "path": path,
                    "size": offer.size,
                    "sha256": offer.sha256,
                    "mode": mode,
                    **(slot.details() if slot is not None else {}),
                },
            )
        )
        if slot is not None:
            link_run(wf.id, slot.at, run_id)
        if begin:
            status = states.check_run(status, RunStatus.RUNNING)
            self.started.append(run_id)
            self.events.append(_started_event(wf.name, wf.category, run_id, 1, mode, self.host))
        if offer.refused:
            self.refused.append((run_id, wf, offer))
            return
        self.created.append(Recorded(run_id, status.value, wf.name, wf.category))

    def _new_version(self, cursor: Any, offer: Offer, wf: WorkflowState, path: str | None) -> bool:
        version = dict(
            workflow=wf.id,
            path=path,
            size=offer.size,
            mtime_ns=offer.mtime_ns,
            # a refused file is never read: its ledger row has no hash
            sha256=offer.sha256 or ("-" if offer.refused else None),
            at=self.now,
        )
        return _LEDGER_INSERT.insert_counted(self.db, cursor, version)

    def _run_row(
        self, offer: Offer, wf: WorkflowState, path: str | None, mode: str, begin: bool, status
    ) -> dict:
        return dict(
            workflow=wf.id,
            revision=wf.revision,
            trigger_kind=offer.kind,
            trigger_path=path,
            trigger_size=offer.size,
            trigger_mtime=offer.mtime_ns / 1e9 if offer.mtime_ns else None,
            trigger_hash=offer.sha256,
            mode=mode,
            status=(RunStatus.RUNNING if begin else status).value,
            queued_at=self.now,
            started_at=self.now if begin else None,
            claimed_by=self.host if begin else None,
            host=self.host,
            created_by=offer.actor,
        )


def _skipped_event(wf: WorkflowState, slot: Slot) -> NewEvent:
    return NewEvent(
        actor=ENGINE_ACTOR,
        action=AuditAction.SCHEDULE_SKIPPED,
        subject=f"workflow {wf.name}",
        category=wf.category,
        workflow=wf.name,
        reason="catch_up: none (slots missed while no engine ran are not run)",
        details={**slot.details(), "missed_not_run": slot.passed + 1},
    )


_started_event = started_event
__all__ = ["_duration"]  # outcomes.py reads it from here


def claim(
    db: Database,
    run_id: int,
    claimer: str,
    on_claimed: Callable[[LoadedWorkflow], None] | None = None,
) -> tuple[ClaimedRun, LoadedWorkflow] | None:
    """queued -> running for a worker: the run and its workflow, or None if it is not
    queued now (taken by another worker or engine, or its backoff has not ended).
    `on_claimed` runs before the commit (see record_batch's `on_started`)."""
    hook = None if on_claimed is None else (lambda _run, wf: on_claimed(wf))
    claimed = claim_many(db, [run_id], claimer, hook)
    return claimed[0] if claimed else None


def claim_run(db: Database, run_id: int, claimer: str) -> bool:
    return claim(db, run_id, claimer) is not None


def next_queued(db: Database, limit: int = 50, skip: Collection[int] = ()) -> list[int]:
    """Queued runs whose backoff has ended, oldest first; `skip`: workflows whose runs
    another engine takes (their `runs_on`)."""
    now = utcnow()
    query = (
        Run.select(Run.id)
        .where(
            Run.status == RunStatus.QUEUED.value,
            (Run.next_attempt_at.is_null()) | (Run.next_attempt_at <= now),
            sql.workflow_not_in(Run.workflow, skip),
        )
        .order_by(Run.id)
        .limit(limit)
    )
    if not is_sqlite(db):
        query = query.for_update("FOR UPDATE SKIP LOCKED")
    return [r.id for r in query]


def next_retry_in(db: Database) -> float | None:
    """Seconds until the earliest backoff ends, of a queued run or of an approved write
    waiting for its next attempt (None: nothing waits)."""
    now = utcnow()
    dues = [
        _earliest(Run.next_attempt_at, Run.status == RunStatus.QUEUED.value, now),
        _earliest(Write.next_attempt_at, Write.status == WriteStatus.APPROVED.value, now),
    ]
    due = min((d for d in dues if d is not None), default=None)
    return None if due is None else max(0.0, (due - now).total_seconds())


def _earliest(column, waiting, now: dt.datetime) -> dt.datetime | None:
    due = column.model.select(fn.MIN(column)).where(waiting, column > now).scalar()
    if isinstance(due, str):  # SQLite returns MIN() of a DATETIME column as text
        due = column.python_value(due)
    return due


def store_plan(
    db: Database,
    run_id: int,
    wf: LoadedWorkflow,
    planned: Sequence[PlannedWrite],
    bytes_read: int,
    clean_runs: int,
    affected: int = 0,
) -> tuple[str, list[int]]:
    """Record a run's planned writes and decide each per the approval gate (one run of
    `plans.store_plans`). `affected`: the records the plan affects. Returns (new run
    status, ids of writes approved by the gate for applying)."""
    plan = Plan(run_id, wf, planned, bytes_read, clean_runs, affected)
    return store_plans(db, [plan])[run_id]


def count_as_watched(db: Database, run_id: int) -> bool:
    """Record a manual run of a file as that file version's run in its workflow's
    ledger, so the watcher's reconciliation does not run the same version again (the
    demo runs files that lie in the folders its enabled workflows watch). False when
    the version had its run already or the file is gone."""
    run = Run.get_by_id(run_id)
    if not run.trigger_path:
        return False
    try:
        st = Path(run.trigger_path).stat()
    except OSError:
        return False
    with queued_transaction(db):
        inserted = (
            LedgerEntry.insert(
                workflow=run.workflow_id,
                path=run.trigger_path,
                size=st.st_size,
                mtime_ns=st.st_mtime_ns,
                sha256=run.trigger_hash or "",
                run_id=run_id,
                at=utcnow(),
            )
            .on_conflict_ignore()
            .execute()
        )
    return bool(inserted)
