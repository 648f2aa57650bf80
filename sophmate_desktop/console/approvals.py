"""N approvers: how many people a write needs, and recording the ones before the last.

A write of a workflow with `approval: {approvers: N}` (or a customer-facing write when
the `customer_facing_approvers` setting is above one) needs N distinct people. Each
approval but the last is recorded (a WriteApproval row and a `write.approval_recorded`
event) and the write stays pending; the last one moves it to approved through the gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sophmate_desktop.domain import policy
from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.store import approvals, audit
from sophmate_desktop.store.models import Setting, Workflow
from sophmate_desktop.store.rows import DecisionResult

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


class ApprovalOps:
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
