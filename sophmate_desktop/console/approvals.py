"""N approvers: how many people a write needs, and recording the ones before the last.

A write of a workflow with `approval: {approvers: N}` (or a customer-facing write when
the `customer_facing_approvers` setting is above one) needs N distinct people. Each
approval but the last is recorded (a WriteApproval row and a `write.approval_recorded`
event) and the write stays pending; the last one moves it to approved through the gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sophmate_desktop.domain import policy
from sophmate_desktop.domain.enums import WriteStatus
from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.store import approvals, audit
from sophmate_desktop.store.models import Setting, Workflow
from sophmate_desktop.store.rows import DecisionResult
from sophmate_desktop.store.workflows import switch_states

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

CUSTOMER_FACING_APPROVERS = "customer_facing_approvers"


def workflow_approvers(wf: Workflow) -> int:
    """`approval.approvers` of the workflow's stored definition (1 when absent)."""
    approval = (wf.definition or {}).get("approval") or {}
    try:
        return max(1, int(approval.get("approvers", 1)))
    except (TypeError, ValueError):
        return 1


@dataclass(frozen=True, slots=True)
class ApprovalState:
    """A write's approvals so far, and why the current person may not approve it."""

    given: int = 0
    needed: int = 1
    refusal: str | None = None  # None: this person may approve it now

    @property
    def text(self) -> str:
        """ "1 of 2 approvals" when more than one is needed, else ""."""
        return f"{self.given} of {self.needed} approvals" if self.needed > 1 else ""


def _short(refusal: str) -> str:
    """The reason without its "write N cannot be approved: " opening."""
    head, sep, rest = refusal.partition(" cannot be approved: ")
    return rest if sep and head.startswith("write ") else refusal


class ApprovalOps:
    def approval_states(self: Console, rows: Sequence[Any]) -> dict[int, ApprovalState]:
        """For rows with id, workflow (name), category, effect, customer_facing and
        status: approvals given and needed, and the current person's refusal. A few
        queries for all the rows together, none per row."""
        if not rows:
            return {}
        names = list({r.workflow for r in rows})
        workflows = {wf.name: wf for wf in Workflow.select().where(Workflow.name.in_(names))}
        by_id = {wf.id: wf for wf in workflows.values()}
        given = approvals.given_by(self.db, [r.id for r in rows])
        switches = switch_states(self.db)
        four_eyes = self.four_eyes_enabled
        customer = self.customer_facing_approvers()
        out: dict[int, ApprovalState] = {}
        for r in rows:
            wf = workflows.get(r.workflow)
            if wf is None:
                continue
            needed = policy.approvers_needed(
                workflow_approvers(wf),
                customer_facing=bool(r.customer_facing),
                customer_facing_approvers=customer,
            )
            refusal = None
            if r.status == WriteStatus.PENDING:
                found = self._approval_refusal(
                    r, by_id[wf.id], switches, four_eyes, given.get(r.id, ())
                )
                refusal = _short(found) if found else None
            out[r.id] = ApprovalState(len(given.get(r.id, ())), needed, refusal)
        return out

    def customer_facing_approvers(self: Console) -> int:
        try:
            return max(1, int(self.setting(CUSTOMER_FACING_APPROVERS, 1)))
        except (TypeError, ValueError):
            return 1

    def set_customer_facing_approvers(self: Console, value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 10:
            raise BadInput("customer_facing_approvers: use a whole number from 1 to 10")
        with self.transaction():
            old = self.setting(CUSTOMER_FACING_APPROVERS, 1)
            Setting.insert(key=CUSTOMER_FACING_APPROVERS, value=value).on_conflict(
                conflict_target=[Setting.key], update={Setting.value: value}
            ).execute()
            self.audit(
                AuditAction.SETTING_CHANGED,
                subject=CUSTOMER_FACING_APPROVERS,
                details={"from": old, "to": value},
            )

    def _approvals_needed(
        self: Console, writes: Sequence[Any], workflows: dict[int, Workflow]
    ) -> dict[int, int]:
        """Approvals each write needs, by write id (settings read once)."""
        customer = self.customer_facing_approvers()
        per_workflow = {wid: workflow_approvers(wf) for wid, wf in workflows.items()}
        return {
            w.id: policy.approvers_needed(
                per_workflow.get(w.workflow_id, 1),
                customer_facing=bool(w.customer_facing),
                customer_facing_approvers=customer,
            )
            for w in writes
        }

    def _record_partial_approvals(
        self: Console,
        accepted: list[Any],
        workflows: dict[int, Workflow],
        given: dict[int, list[str]],
        comment: str | None,
        now: datetime,
        results: dict[int, DecisionResult],
    ) -> list[Any]:
        """Record this person's approval of the writes that need several; returns the
        writes whose approval is the last one needed (they move to approved)."""
        needed = self._approvals_needed(accepted, workflows)
        several = [w for w in accepted if needed[w.id] > 1]
        if not several:
            return accepted
        approvals.record(self.db, [w.id for w in several], self.actor, now, comment)
        partial = [w for w in several if len(given.get(w.id, ())) + 1 < needed[w.id]]
        events = []
        for w in partial:
            count = f"{len(given.get(w.id, ())) + 1} of {needed[w.id]}"
            events.append(
                self.event(
                    AuditAction.WRITE_APPROVAL_RECORDED,
                    subject=f"write {w.id}",
                    category=w.category,
                    workflow=workflows[w.workflow_id].name,
                    run=w.run_id,
                    reason=comment,
                    details={"kind": w.kind, "target": w.target, "approvals": count},
                )
            )
            results[w.id] = DecisionResult(
                w.id, True, w.status, f"write {w.id}: approval {count} recorded; still pending"
            )
        audit.append_many(self.db, events)
        waiting = {w.id for w in partial}
        return [w for w in accepted if w.id not in waiting]
