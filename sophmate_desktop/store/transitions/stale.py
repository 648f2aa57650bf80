"""A write whose preview went stale: what it was previewed against (a file, a
connection) changed before it was applied. It is not applied: it moves applying ->
stale and a new pending write of the same run, previewed afresh, replaces it, in one
transaction; the run waits for the new decision."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from peewee import Database, fn

from sophmate_desktop.domain import states
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import WriteStatus
from sophmate_desktop.domain.names import ENGINE_ACTOR, AuditAction
from sophmate_desktop.store.models import Run, Workflow, Write
from sophmate_desktop.store.sql import queued_transaction
from sophmate_desktop.store.transitions import gate
from sophmate_desktop.store.transitions.events import write_event
from sophmate_desktop.store.transitions.outcomes import settle_runs

# What a replacement may change: the rest (kind, effect, category) is the stale write's.
REPLANNED_FIELDS = ("target", "summary", "preview", "payload")


def replace_stale(
    db: Database, write_id: int, reason: str, replanned: Mapping[str, Any], comment: str
) -> tuple[int | None, str]:
    """applying -> stale (`reason`: what changed), plus its replacement (pending, seq =
    next, `comment` for the approver) with `replanned`'s target, summary, preview and
    payload. Returns (the new write's id, the run's status);
    (None, status) when the write was not applying any more (nothing changed)."""
    with queued_transaction(db):
        w = Write.get_by_id(write_id)
        if w.status != WriteStatus.APPLYING:
            return None, Run.get_by_id(w.run_id).status
        wf = Workflow.get_by_id(w.workflow_id)
        new_id = _insert_replacement(w, comment, replanned)
        event = write_event(
            AuditAction.WRITE_STALE,
            w.id,
            w.run_id,
            workflow=wf.name,
            category=w.category,
            reason=reason,
            details={"kind": w.kind, "target": w.target, "replaced_by": new_id},
        )
        gate.move_write(
            db,
            w.id,
            WriteStatus.APPLYING,
            WriteStatus.STALE,
            events=event,
            error=reason,
            claimed_by=None,
        )
        settle_runs(db, [w.run_id], ENGINE_ACTOR)
        return new_id, Run.get_by_id(w.run_id).status


def _insert_replacement(w: Write, comment: str, replanned: Mapping[str, Any]) -> int:
    states.check_write(None, WriteStatus.PENDING)
    seq = (Write.select(fn.MAX(Write.seq)).where(Write.run == w.run_id).scalar() or 0) + 1
    fields = {name: replanned[name] for name in REPLANNED_FIELDS}
    return Write.insert(
        run=w.run_id,
        workflow=w.workflow_id,
        category=w.category,
        seq=seq,
        kind=w.kind,
        effect=w.effect,
        customer_facing=w.customer_facing,
        status=WriteStatus.PENDING.value,
        idempotency_key=f"{w.run_id}-{seq}-{uuid.uuid4().hex[:16]}",
        created_at=utcnow(),
        cost=w.cost,
        comment=comment + _replaces(w.id),
        **fields,
    ).execute()


def replacement_of(w: Write) -> int | None:
    """The id of the write that replaced stale write `w` (the latest, if it went stale
    again), None if there is none."""
    row = (
        Write.select(Write.id)
        .where(Write.run == w.run_id, Write.seq > w.seq, Write.comment.endswith(_replaces(w.id)))
        .order_by(Write.seq.desc())
        .first()
    )
    return None if row is None else row.id


def _replaces(write_id: int) -> str:
    return f"; it replaces write {write_id}"
