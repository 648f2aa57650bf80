"""The approval inbox: approve, reject, and the interrupted-write decisions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from peewee import SQL

from sophmate_desktop.domain import policy, states
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import WriteStatus
from sophmate_desktop.domain.errors import BadInput, Conflict, PolicyRefused
from sophmate_desktop.domain.events import Event
from sophmate_desktop.engine.outcomes import settle_runs
from sophmate_desktop.engine.records import effects_of, switch_states
from sophmate_desktop.store import audit, queries
from sophmate_desktop.store.database import is_sqlite
from sophmate_desktop.store.models import Category, Switch, Workflow, Write
from sophmate_desktop.store.rows import DecisionResult, WriteRow

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

CHUNK = 500
# What a decision reads of a write: not the payload or preview, which can be large;
# as named tuples, not model instances (a third of a 10,000-write decision).
_DECISION_FIELDS = (
    Write.id,
    Write.run.alias("run_id"),
    Write.workflow.alias("workflow_id"),
    Write.category,
    Write.seq,
    Write.kind,
    Write.effect,
    Write.target,
    Write.customer_facing,
    Write.status,
    Write.decided_by,
)


def _id_list(db, ids: list[int]) -> SQL:
    """`(?, ?, ...)` for `Write.id.in_(...)`, built as one string: peewee builds an IN
    list value by value, a fifth of a 10,000-write decision."""
    return SQL("(" + ", ".join([db.param] * len(ids)) + ")", ids)


def _ids(ids: Iterable[int]) -> list[int]:
    out = []
    for raw in ids:
        try:
            out.append(int(raw))
        except (TypeError, ValueError):
            raise BadInput(f"write id {raw!r} is not a number")
    if not out:
        raise BadInput("no write ids given")
    return list(dict.fromkeys(out))


class InboxOps:
    def list_inbox(
        self: Console, *, include_all: bool = False, limit: int = 500, offset: int = 0, **filters
    ) -> list[WriteRow]:
        statuses = None if include_all else queries.INBOX_STATUSES
        return queries.list_writes(limit=limit, offset=offset, statuses=statuses, **filters)

    def get_write(self: Console, write_id: int) -> WriteRow:
        return queries.get_write_row(write_id)

    def _lock_writes(self: Console, ids: list[int]) -> dict[int, Any]:
        """The writes' decision fields by id (named tuples), locked on PostgreSQL."""
        found: dict[int, Any] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = _id_list(self.db, ids[start : start + CHUNK])
            query = Write.select(*_DECISION_FIELDS).where(Write.id.in_(chunk))
            if not is_sqlite(self.db):
                query = query.for_update()
            found.update({w.id: w for w in query.namedtuples()})
        return found

    def _lock_switches(self: Console) -> None:
        """On PostgreSQL, hold the switches still until we commit (a pause waits)."""
        if not is_sqlite(self.db):
            list(Switch.select().for_update("FOR SHARE"))
            list(Category.select().for_update("FOR SHARE"))

    def approve(
        self: Console, ids: Sequence[int], comment: str | None = None
    ) -> list[DecisionResult]:
        return self._decide(_ids(ids), WriteStatus.APPROVED, comment)

    def reject(self: Console, ids: Sequence[int], comment: str) -> list[DecisionResult]:
        if not comment or not comment.strip():
            raise BadInput("--comment: rejecting needs a comment that says why")
        return self._decide(_ids(ids), WriteStatus.REJECTED, comment.strip())

    def _decide(
        self: Console, ids: list[int], new: WriteStatus, comment: str | None
    ) -> list[DecisionResult]:
        results: dict[int, DecisionResult] = {}
        verb = "approved" if new is WriteStatus.APPROVED else "rejected"
        now = utcnow()
        with self.transaction():
            writes = self._lock_writes(ids)
            self._lock_switches()
            switches = switch_states()
            four_eyes = self.four_eyes_enabled  # read once, not once per write
            workflows = {
                wf.id: wf
                for wf in Workflow.select().where(
                    Workflow.id.in_(list({w.workflow_id for w in writes.values()}))
                )
            }
            accepted: list[Any] = []
            for wid in ids:
                w = writes.get(wid)
                if w is None:
                    results[wid] = DecisionResult(
                        wid, False, "missing", f"no write with id {wid}", 2
                    )
                    continue
                if w.status != WriteStatus.PENDING:
                    by = f" by {w.decided_by}" if w.decided_by else ""
                    results[wid] = DecisionResult(
                        wid, False, w.status, f"write {wid} is already {w.status}{by}", 3
                    )
                    continue
                wf = workflows[w.workflow_id]
                if new is WriteStatus.APPROVED:
                    refusal = self._approval_refusal(w, wf, switches, four_eyes)
                    if refusal:
                        results[wid] = DecisionResult(wid, False, w.status, refusal, 3)
                        continue
                accepted.append(w)
            events = []
            for start in range(0, len(accepted), CHUNK):
                chunk = [w.id for w in accepted[start : start + CHUNK]]
                moved = (
                    Write.update(
                        status=new.value, decided_by=self.actor, decided_at=now, comment=comment
                    )
                    .where(
                        Write.id.in_(_id_list(self.db, chunk)),
                        Write.status == WriteStatus.PENDING.value,
                    )
                    .execute()
                )
                if moved != len(chunk):
                    raise Conflict(
                        "another approver decided some of these writes at the same "
                        "moment; reload the inbox and try again"
                    )
            for w in accepted:
                wf = workflows[w.workflow_id]
                events.append(
                    audit.NewEvent(
                        actor=self.actor,
                        action=f"write.{verb}",
                        subject=f"write {w.id}",
                        category=w.category,
                        workflow=wf.name,
                        run=w.run_id,
                        reason=comment,
                        details={"kind": w.kind, "target": w.target, "seq": w.seq},
                    )
                )
                results[w.id] = DecisionResult(w.id, True, new.value, f"write {w.id} {verb}")
            if new is WriteStatus.REJECTED:
                events += settle_runs({w.run_id for w in accepted}, self.actor)
            if events:
                audit.append_many(events)
                self._pending_events.append(
                    Event(f"writes.{verb}", {"ids": [w.id for w in accepted]})
                )
        return [results[i] for i in ids]

    def _approval_refusal(
        self: Console,
        w: Any,
        wf: Workflow,
        switches: list[policy.SwitchState],
        four_eyes: bool,
    ) -> str | None:
        sw = policy.blocking_switch(switches, category=w.category, effects=effects_of(w))
        if sw is not None:
            return f"write {w.id} cannot be approved: {policy.switch_refusal_text(sw)}"
        return policy.four_eyes_refusal(
            approver=self.actor,
            last_changed_by=wf.updated_by,
            enabled=four_eyes,
            workflow=wf.name,
        )

    def _resolve_interrupted(
        self: Console, write_id: int, new: WriteStatus, comment: str | None
    ) -> WriteRow:
        with self.transaction():
            w = self._lock_writes([write_id]).get(write_id)
            if w is None:
                raise BadInput(f"no write with id {write_id}")
            allowed = (WriteStatus.INTERRUPTED, WriteStatus.FAILED)
            if w.status not in allowed or (
                new is WriteStatus.APPLIED and w.status != WriteStatus.INTERRUPTED
            ):
                raise Conflict(
                    f"write {write_id} is {w.status}; only interrupted writes can be "
                    "marked applied, and interrupted or failed writes retried"
                )
            states.check_write(WriteStatus(w.status), new)
            if new is WriteStatus.APPROVED:
                sw = self.blocking_switch(w.category, effects_of(w))
                if sw is not None:
                    raise PolicyRefused(
                        f"write {write_id} cannot be retried: {policy.switch_refusal_text(sw)}"
                    )
            fields = {
                "status": new.value,
                "decided_by": self.actor,
                "decided_at": utcnow(),
                "comment": comment,
            }
            if new is WriteStatus.APPLIED:
                fields["applied_at"] = utcnow()
            Write.update(**fields).where(Write.id == write_id, Write.status == w.status).execute()
            action = "write.marked_applied" if new is WriteStatus.APPLIED else "write.retried"
            wf = Workflow.get_by_id(w.workflow_id)
            self.audit(
                action,
                subject=f"write {write_id}",
                category=w.category,
                workflow=wf.name,
                run=w.run_id,
                reason=comment,
                details={"from": w.status, "kind": w.kind, "target": w.target},
            )
            if new is WriteStatus.APPLIED:
                audit.append_many(settle_runs([w.run_id], self.actor))
        return queries.get_write_row(write_id)

    def mark_applied(self: Console, write_id: int, comment: str | None = None) -> WriteRow:
        return self._resolve_interrupted(write_id, WriteStatus.APPLIED, comment)

    def retry_write(self: Console, write_id: int, comment: str | None = None) -> WriteRow:
        return self._resolve_interrupted(write_id, WriteStatus.APPROVED, comment)
