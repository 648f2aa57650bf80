"""The notices' outbox: a notice for a workflow with `notify.on_failure` targets gets
one delivery row per target in the transaction that records it; the engine's notice
dispatcher sends them (engine/notice_dispatch.py) and stores each outcome here.

Targets are stored as written: `${secret:NAME}` is expanded only when sending.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import WriteStatus
from sophmate_desktop.store.models import Category, NoticeDelivery, Workflow, Write
from sophmate_desktop.store.workflows import load_workflow

# The kinds of notice that reach people outside the window.
DELIVERED_KINDS = ("run_failed", "auto_paused", "escalation")
MAX_ATTEMPTS = 4
BACKOFF_S = (1.0, 5.0, 30.0)
LEASE_S = 60.0  # a claimed delivery whose sender died is tried again after this


@dataclass(frozen=True)
class Delivery:
    id: int
    notification: int
    target: str
    title: str
    body: str
    status: str  # pending | sent | failed
    attempts: int
    last_error: str | None
    at: _dt.datetime

    def to_dict(self) -> dict:
        return {
            "target": self.target,
            "status": self.status,
            "attempts": self.attempts,
            "error": self.last_error,
            "at": self.at.isoformat(),
        }


def _row(d: NoticeDelivery) -> Delivery:
    return Delivery(
        d.id, d.notification, d.target, d.title, d.body, d.status, d.attempts, d.last_error, d.at
    )


def _targets(workflows: Iterable[Workflow]) -> list[str]:
    found: list[str] = []
    for wf in workflows:
        notify = load_workflow(wf).definition.notify
        found += [t for t in (notify.on_failure if notify else ()) if t.strip() != "tray"]
    return list(dict.fromkeys(found))


def _context(wf: Workflow | None, run: int | None) -> str:
    lines = []
    if wf is not None:
        defn = load_workflow(wf).definition
        lines.append(f"Workflow: {wf.name} (owner: {wf.owner or 'none'}, stage: {wf.stage})")
        if run is not None:
            lines.append(f"Run: {run}")
            applied = (
                Write.select(Write.id, Write.kind, Write.target)
                .where(Write.run == run, Write.status == WriteStatus.APPLIED.value)
                .order_by(Write.id)
            )
            done = [f"  write {w.id}: {w.kind} to {w.target}" for w in applied]
            lines.append("Already applied:" if done else "Already applied: nothing")
            lines += done
        lines.append(f"Rollback: {defn.rollback or 'none written'}")
        lines.append(
            f"Next: open Notifications in SophMate Desktop, or run "
            f"`sophmate-desktop-cli workflow show {wf.name}`"
            + (f" and `sophmate-desktop-cli runs show {run}`" if run is not None else "")
        )
    return "\n".join(lines)


def queue_deliveries(
    note_id: int,
    kind: str,
    title: str,
    body: str,
    *,
    workflow: str | None = None,
    category: str | None = None,
    run: int | None = None,
) -> int:
    """Inside the caller's transaction: one pending delivery per target; returns how many."""
    if kind not in DELIVERED_KINDS:
        return 0
    wf = Workflow.get_or_none(Workflow.name == workflow) if workflow else None
    if wf is not None:
        workflows: list[Workflow] = [wf]
    elif category:
        workflows = list(Workflow.select().join(Category).where(Category.name == category))
    else:
        return 0
    targets = _targets(workflows)
    if not targets:
        return 0
    text = "\n\n".join(x for x in (body, _context(wf, run)) if x)
    now = utcnow()
    rows = [
        {"notification": note_id, "target": t, "title": title, "body": text, "next_at": now}
        for t in targets
    ]
    NoticeDelivery.insert_many(rows).execute()
    return len(rows)


def claim_due(limit: int = 50) -> list[Delivery]:
    """The pending deliveries due now, each leased to the caller (conditional update)."""
    now = utcnow()
    due = (
        NoticeDelivery.select()
        .where(NoticeDelivery.status == "pending", NoticeDelivery.next_at <= now)
        .order_by(NoticeDelivery.id)
        .limit(limit)
    )
    claimed = []
    lease = now + _dt.timedelta(seconds=LEASE_S)
    for d in due:
        moved = (
            NoticeDelivery.update(attempts=NoticeDelivery.attempts + 1, next_at=lease)
            .where(NoticeDelivery.id == d.id, NoticeDelivery.attempts == d.attempts)
            .execute()
        )
        if moved:
            claimed.append(_row(NoticeDelivery.get_by_id(d.id)))
    return claimed


def record_outcome(delivery: Delivery, ok: bool, error: str | None, *, retry: bool = True) -> str:
    """Store a send's outcome: sent, pending again after a backoff, or failed for good
    (at once when retrying cannot help: a bad URL, no connection, a missing secret)."""
    now = utcnow()
    if ok:
        status, next_at = "sent", now
    elif not retry or delivery.attempts >= MAX_ATTEMPTS:
        status, next_at = "failed", now
    else:
        wait = BACKOFF_S[min(delivery.attempts, len(BACKOFF_S)) - 1]
        status, next_at = "pending", now + _dt.timedelta(seconds=wait)
    NoticeDelivery.update(
        status=status, last_error=None if ok else error, next_at=next_at, at=now
    ).where(NoticeDelivery.id == delivery.id).execute()
    return status


def next_due_in() -> float | None:
    """Seconds until the next pending delivery is due (0 when one is due now)."""
    first = (
        NoticeDelivery.select(NoticeDelivery.next_at)
        .where(NoticeDelivery.status == "pending")
        .order_by(NoticeDelivery.next_at)
        .first()
    )
    if first is None:
        return None
    return max(0.0, (first.next_at - utcnow()).total_seconds())


def deliveries_of(note_ids: Iterable[int]) -> dict[int, list[Delivery]]:
    ids = list(note_ids)
    found: dict[int, list[Delivery]] = {i: [] for i in ids}
    if not ids:
        return found
    query = NoticeDelivery.select().where(NoticeDelivery.notification.in_(ids))
    for d in query.order_by(NoticeDelivery.id):
        found[d.notification].append(_row(d))
    return found
