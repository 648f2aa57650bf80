"""The approval inbox: approve, reject, and the interrupted-write decisions."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sophmate_desktop.console.approvals import ApprovalOps
from sophmate_desktop.console.inbox_pages import with_recording
from sophmate_desktop.domain import policy
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import WriteStatus
from sophmate_desktop.domain.errors import BadInput, Conflict, PolicyRefused
from sophmate_desktop.domain.events import Event
from sophmate_desktop.domain.names import AuditAction, EventKind
from sophmate_desktop.domain.roles import Role
from sophmate_desktop.store import approvals, audit, queries
from sophmate_desktop.store.database import is_sqlite
from sophmate_desktop.store.models import Category, Switch, Workflow, Write
from sophmate_desktop.store.rows import DecisionResult, WriteRow
from sophmate_desktop.store.sql import id_list
from sophmate_desktop.store.transitions import gate
from sophmate_desktop.store.transitions.outcomes import settle_runs
from sophmate_desktop.store.transitions.stale import replacement_of
from sophmate_desktop.store.workflows import effects_of, switch_states

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


def _decided_details(w: Any, given_by: list[str] | None) -> dict[str, Any]:
    details = {"kind": w.kind, "target": w.target, "seq": w.seq}
    if given_by:  # the last of several approvals: name the earlier approvers
        details["earlier_approvers"] = list(given_by)
    return details


class InboxOps(ApprovalOps):
    def list_inbox(
        self: Console, *, include_all: bool = False, limit: int = 500, offset: int = 0, **filters
    ) -> list[WriteRow]:
        statuses = None if include_all else queries.INBOX_STATUSES
        rows = queries.list_writes(limit=limit, offset=offset, statuses=statuses, **filters)
        return self._with_approval_states(rows)

    def get_write(self: Console, write_id: int) -> WriteRow:
        [row] = self._with_approval_states([queries.get_write_row(write_id)])
        return row

    def _with_approval_states(self: Console, rows: list[WriteRow]) -> list[WriteRow]:
        rows = with_recording(self.db, rows)
        states = self.approval_states(rows)
        return [
            dataclasses.replace(
                r, approvals_given=st.given, approvals_needed=st.needed, refusal=st.refusal
            )
            if (st := states.get(r.id))
            else r
            for r in rows
        ]

    def _lock_writes(self: Console, ids: list[int]) -> dict[int, Any]:
        """The writes' decision fields by id (named tuples), locked on PostgreSQL in
        ascending id order whatever order they were asked in: two approvers' bulk
        decisions then wait for each other instead of deadlocking."""
        found: dict[int, Any] = {}
        ordered = sorted(set(ids))
        for start in range(0, len(ordered), CHUNK):
            chunk = id_list(self.db, ordered[start : start + CHUNK])
            query = Write.select(*_DECISION_FIELDS).where(Write.id.in_(chunk))
            if not is_sqlite(self.db):
                query = query.order_by(Write.id).for_update()
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
        deciding = "approving" if new is WriteStatus.APPROVED else "rejecting"
        self.require_role(Role.APPROVER, f"{deciding} writes")
        with self.transaction():
            writes = self._lock_writes(ids)
            self._lock_switches()
            workflows = {
                wf.id: wf
                for wf in Workflow.select().where(
                    Workflow.id.in_(list({w.workflow_id for w in writes.values()}))
                )
            }
            approving = new is WriteStatus.APPROVED
            given = approvals.given_by(self.db, list(writes)) if approving else {}
            accepted = self._decidable(ids, writes, workflows, new, results, given)
            if approving:
                accepted = self._record_partial_approvals(
                    accepted, workflows, given, comment, utcnow(), results
                )
            self._move_decided(accepted, workflows, new, comment, given)
            for w in accepted:
                results[w.id] = DecisionResult(w.id, True, new.value, f"write {w.id} {verb}")
            if new is WriteStatus.REJECTED and accepted:
                settle_runs(self.db, {w.run_id for w in accepted}, self.actor)
            if accepted:
                kind = (
                    EventKind.WRITES_APPROVED if verb == "approved" else EventKind.WRITES_REJECTED
                )
                self._pending_events.append(Event(kind, {"ids": [w.id for w in accepted]}))
        return [results[i] for i in ids]

    def _decidable(
        self: Console,
        ids: list[int],
        writes: dict[int, Any],
        workflows: dict[int, Workflow],
        new: WriteStatus,
        results: dict[int, DecisionResult],
        given: dict[int, list[str]],
    ) -> list[Any]:
        """The writes this person may decide now; a refusal for each of the others."""
        switches = switch_states(self.db)
        four_eyes = self.four_eyes_enabled  # read once, not once per write
        accepted: list[Any] = []
        for wid in ids:
            w = writes.get(wid)
            if w is None:
                results[wid] = DecisionResult(wid, False, "missing", f"no write with id {wid}", 2)
                continue
            if w.status == WriteStatus.STALE:
                results[wid] = _stale_result(w)
                continue
            if w.status != WriteStatus.PENDING:
                by = f" by {w.decided_by}" if w.decided_by else ""
                results[wid] = DecisionResult(
                    wid, False, w.status, f"write {wid} is already {w.status}{by}", 3
                )
                continue
            if new is WriteStatus.APPROVED:
                wf = workflows[w.workflow_id]
                refusal = self._approval_refusal(w, wf, switches, four_eyes, given.get(wid, ()))
                if refusal:
                    results[wid] = DecisionResult(wid, False, w.status, refusal, 3)
                    continue
            accepted.append(w)
        return accepted

    def _move_decided(
        self: Console,
        accepted: list[Any],
        workflows: dict[int, Workflow],
        new: WriteStatus,
        comment: str | None,
        given: dict[int, list[str]],
    ) -> None:
        now = utcnow()
        by_id = {w.id: w for w in accepted}

        def decided(moved: list[int]) -> list[audit.NewEvent]:
            return [
                audit.NewEvent(
                    actor=self.actor,
                    action=AuditAction.for_write(new),
                    subject=f"write {w.id}",
                    category=w.category,
                    workflow=workflows[w.workflow_id].name,
                    run=w.run_id,
                    reason=comment,
                    details=_decided_details(w, given.get(w.id)),
                )
                for w in (by_id[i] for i in moved)
            ]

        for start in range(0, len(accepted), CHUNK):
            chunk = [w.id for w in accepted[start : start + CHUNK]]
            moved = gate.move_writes(
                self.db,
                chunk,
                WriteStatus.PENDING,
                new,
                events=decided,
                decided_by=self.actor,
                decided_at=now,
                comment=comment,
            )
            if len(moved) != len(chunk):
                raise Conflict(
                    "another approver decided some of these writes at the same "
                    "moment; reload the inbox and try again"
                )

    def _approval_refusal(
        self: Console,
        w: Any,
        wf: Workflow,
        switches: list[policy.SwitchState],
        four_eyes: bool,
        given_by: Sequence[str] = (),
    ) -> str | None:
        again = policy.repeat_approval_refusal(approver=self.actor, given_by=given_by)
        if again:
            return f"write {w.id} cannot be approved: {again}"
        sw = policy.blocking_switch(switches, category=w.category, effects=effects_of(w))
        if sw is not None:
            return f"write {w.id} cannot be approved: {policy.switch_refusal_text(sw)}"
        if wf.paused:
            return (
                f"write {w.id} cannot be approved: workflow {wf.name} is paused: "
                f"{wf.paused_reason or 'no reason given'} (resume it first)"
            )
        return policy.four_eyes_refusal(
            approver=self.actor,
            last_changed_by=wf.updated_by,
            enabled=four_eyes,
            workflow=wf.name,
        )

    def _resolve_interrupted(
        self: Console, write_id: int, new: WriteStatus, comment: str | None
    ) -> WriteRow:
        what = "marking writes applied" if new is WriteStatus.APPLIED else "retrying writes"
        self.require_role(Role.APPROVER, what)
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
            if new is WriteStatus.APPROVED:
                sw = self.blocking_switch(w.category, effects_of(w))
                if sw is not None:
                    raise PolicyRefused(
                        f"write {write_id} cannot be retried: {policy.switch_refusal_text(sw)}"
                    )
            fields = {"decided_by": self.actor, "decided_at": utcnow(), "comment": comment}
            if new is WriteStatus.APPLIED:
                fields["applied_at"] = utcnow()
            else:  # a person's retry starts a new series of attempts, due now
                fields.update(attempt=1, next_attempt_at=None)
            action = (
                AuditAction.WRITE_MARKED_APPLIED
                if new is WriteStatus.APPLIED
                else AuditAction.WRITE_RETRIED
            )
            wf = Workflow.get_by_id(w.workflow_id)
            event = self.event(
                action,
                subject=f"write {write_id}",
                category=w.category,
                workflow=wf.name,
                run=w.run_id,
                reason=comment,
                details={"from": w.status, "kind": w.kind, "target": w.target},
            )
            if not gate.move_write(
                self.db, write_id, WriteStatus(w.status), new, events=event, **fields
            ):
                raise Conflict(f"write {write_id} changed meanwhile; reload and try again")
            if new is WriteStatus.APPLIED:
                settle_runs(self.db, [w.run_id], self.actor)
        return queries.get_write_row(write_id)

    def mark_applied(self: Console, write_id: int, comment: str | None = None) -> WriteRow:
        return self._resolve_interrupted(write_id, WriteStatus.APPLIED, comment)

    def retry_write(self: Console, write_id: int, comment: str | None = None) -> WriteRow:
        return self._resolve_interrupted(write_id, WriteStatus.APPROVED, comment)


def _stale_result(w: Any) -> DecisionResult:
    """A stale write is not decided again: its replacement, with a fresh preview, is."""
    new = replacement_of(w)
    then = f": decide write {new}, its new preview" if new else ""
    text = f"write {w.id} is stale (what it previewed changed since){then}"
    return DecisionResult(w.id, False, WriteStatus.STALE.value, text, 3)
