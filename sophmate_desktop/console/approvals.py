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
from sophmate_desktop.domain.roles import Role
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


def _short(refusal: str) -> str:
    """The reason without its "write N cannot be approved: " opening."""
    head, sep, rest = refusal.partition(" cannot be approved: ")
    return rest if sep and head.startswith("write ") else refusal


class ApprovalOps:
    def approval_states(self: Console, rows: Sequence[Any]) -> dict[int, ApprovalState]:
        """For rows with id, workflow (name), category, effect, customer_facing and
        status: approvals given and needed, and the current person's refusal, for the
        rows whose state is not the plain one (one approval, nothing in the way). A
        few queries for all the rows together, none per row; the inbox reads it for
        every page it loads, so the refusal is worked out once per kind of write."""
        if not rows:
            return {}
        workflows = self._approval_workflows({r.workflow for r in rows})
        four_eyes, customer = self._approval_settings()
        needed = {
            r.id: policy.approvers_needed(
                workflows[r.workflow][1],
                customer_facing=bool(r.customer_facing),
                customer_facing_approvers=customer,
            )
            for r in rows
            if r.workflow in workflows
        }
        several = [i for i, n in needed.items() if n > 1]
        given = approvals.given_by(self.db, several) if several else {}
        switches = switch_states(self.db)
        no_role = self.role_refusal(Role.APPROVER, "approving writes")
        memo: dict[tuple, str | None] = {}
        out: dict[int, ApprovalState] = {}
        for r in rows:
            if r.id not in needed:
                continue
            wf = workflows[r.workflow][0]
            by = given.get(r.id, ())
            refusal = None
            if r.status == WriteStatus.PENDING:
                key = (r.workflow, r.category, r.effect, bool(r.customer_facing), tuple(by))
                if key not in memo:
                    found = no_role or self._approval_refusal(r, wf, switches, four_eyes, by)
                    memo[key] = _short(found) if found else None
                refusal = memo[key]
            if needed[r.id] > 1 or refusal is not None:
                out[r.id] = ApprovalState(len(by), needed[r.id], refusal)
        return out

    def _approval_workflows(self: Console, names: set[str]) -> dict[str, tuple[Workflow, int]]:
        """(workflow without its definition, approvers) by name; the definition is read
        only for a workflow revision not seen before (it is the costly column)."""
        fields = [f for f in Workflow._meta.sorted_fields if f.name != "definition"]
        found = list(Workflow.select(*fields).where(Workflow.name.in_(list(names))))
        cache = self.__dict__.setdefault("_approvers_by_revision", {})
        unknown = [wf.id for wf in found if (wf.id, wf.revision) not in cache]
        if unknown:
            query = Workflow.select(Workflow.id, Workflow.revision, Workflow.definition)
            for wf in query.where(Workflow.id.in_(unknown)):
                cache[(wf.id, wf.revision)] = workflow_approvers(wf)
        return {wf.name: (wf, cache.get((wf.id, wf.revision), 1)) for wf in found}

    def _approval_settings(self: Console) -> tuple[bool, int]:
        """(four eyes in effect, customer_facing_approvers), in one read."""
        keys = ["four_eyes", CUSTOMER_FACING_APPROVERS]
        stored = dict(
            Setting.select(Setting.key, Setting.value).where(Setting.key.in_(keys)).tuples()
        )
        value = stored.get("four_eyes", "auto")
        four_eyes = bool(getattr(self.db, "is_team", False)) if value == "auto" else bool(value)
        try:
            customer = max(1, int(stored.get(CUSTOMER_FACING_APPROVERS, 1)))
        except (TypeError, ValueError):
            customer = 1
        return four_eyes, customer

    def customer_facing_approvers(self: Console) -> int:
        try:
            return max(1, int(self.setting(CUSTOMER_FACING_APPROVERS, 1)))
        except (TypeError, ValueError):
            return 1

    def set_customer_facing_approvers(self: Console, value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 10:
            raise BadInput("customer_facing_approvers: use a whole number from 1 to 10")
        self.require_role(Role.ADMINISTRATOR, "changing settings")
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
