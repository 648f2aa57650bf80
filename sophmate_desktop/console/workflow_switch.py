"""A kill switch per workflow (DESIGN 5): pause and resume one workflow, with the
same semantics as a category: queued runs are held, running commands are killed by
the engine, approvals of its writes are refused, and resuming says what happened."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sophmate_desktop.console.switches import left_texts
from sophmate_desktop.console.workflow_rules import reviews_owed
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import ReviewKind, RunStatus
from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.names import POLICY_ACTOR, AuditAction
from sophmate_desktop.domain.run_account import plural
from sophmate_desktop.store import queries
from sophmate_desktop.store.models import AuditEvent, Run, Workflow, Write
from sophmate_desktop.store.transitions import gate
from sophmate_desktop.store.transitions.runs import hold_queued_runs

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

WorkflowHeldChoice = Literal["keep", "replay", "discard"]

# The review that an automatic pause's cause makes due (DESIGN 6).
CAUSE_REVIEW = {
    "consecutive_failures": ReviewKind.AFTER_FAILURE,
    "provider_change": ReviewKind.PROVIDER_CHANGE,
    "plugin_update": ReviewKind.PROVIDER_CHANGE,
}


@dataclass(frozen=True)
class WorkflowSwitchResult:
    """What pausing or resuming one workflow did (changed False: nothing at all)."""

    name: str
    changed: bool
    paused: bool  # the workflow's state after the call
    paused_by: str | None = None  # the pause this call found (resume) or made (pause)
    paused_reason: str | None = None
    paused_at: _dt.datetime | None = None
    cause: str | None = None  # an automatic pause's cause
    review_due: str | None = None  # the review kind that cause made due, still owed
    held_runs: int = 0  # held by the pause, or still held after the resume
    replayed: int = 0
    discarded: int = 0
    left_held: tuple[str, ...] = ()  # why some held runs were not replayed

    @property
    def paused_itself(self) -> bool:
        return self.paused_by == POLICY_ACTOR

    def message(self) -> str:
        if not self.changed:
            if self.paused:
                return (
                    f"workflow {self.name} is already paused by {self.paused_by or 'unknown'}: "
                    f"{self.paused_reason or 'no reason given'} (nothing changed)"
                )
            return f"workflow {self.name} is not paused: nothing to resume (nothing changed)"
        if self.paused:
            held = f"; {plural(self.held_runs, 'queued run')} held" if self.held_runs else ""
            return f"workflow {self.name} paused{held}"
        return self._resumed_text()

    def _resumed_text(self) -> str:
        who = "it paused itself" if self.paused_itself else f"paused by {self.paused_by}"
        lines = [f"workflow {self.name} resumed ({who}: {self.paused_reason or 'no reason'})"]
        if self.replayed:
            lines.append(f"{plural(self.replayed, 'held run')} queued again")
        if self.discarded:
            lines.append(f"{plural(self.discarded, 'held run')} discarded")
        lines.extend(self.left_held)
        if self.held_runs and not self.left_held:
            lines.append(f"{plural(self.held_runs, 'held run')} waiting: replay or discard them")
        if self.review_due:
            lines.append(f"a {self.review_due} review is due: record it when done")
        return "\n".join(lines)


def _require_reason(reason: str | None, verb: str) -> str:
    if reason is None or not reason.strip():
        raise BadInput(f"--reason: a reason is required to {verb} a workflow")
    return reason.strip()


def pause_cause(wf: Workflow) -> str | None:
    """The cause of `wf`'s current automatic pause (None: a person paused it)."""
    if not wf.paused or wf.paused_by != POLICY_ACTOR:
        return None
    last = (
        AuditEvent.select(AuditEvent.details)
        .where(
            AuditEvent.action == AuditAction.WORKFLOW_AUTO_PAUSED.value,
            AuditEvent.workflow == wf.name,
        )
        .order_by(AuditEvent.id.desc())
        .first()
    )
    return (last.details or {}).get("cause") if last else None


def review_owed(wf: Workflow, cause: str | None) -> str | None:
    """The review that `cause` made due, when `wf` still owes it."""
    kind = CAUSE_REVIEW.get(cause or "")
    if kind is None:
        return None
    owed = {due.kind for due in reviews_owed(wf, utcnow())}
    return kind.value if kind in owed else None


def _held_ids(wf_id: int) -> list[int]:
    return [
        r
        for (r,) in Run.select(Run.id)
        .where(Run.status == RunStatus.HELD.value, Run.workflow == wf_id)
        .order_by(Run.id)
        .tuples()
    ]


class WorkflowSwitchOps:
    def waits_for_resume(self: Console, name: str) -> str | None:
        """Why work of `name` waits (its own pause), or None when it is not paused."""
        wf = queries.get_workflow(name)
        if not wf.paused:
            return None
        return f"workflow {wf.name} is paused: {wf.paused_reason or 'no reason given'}"

    def pending_write_count(self: Console, name: str) -> int:
        """Writes of `name` awaiting a decision: disabling a workflow leaves them in the
        inbox (a person saw them planned; approving or rejecting them stays possible)."""
        wf = queries.get_workflow(name)
        return (
            Write.select()
            .where(Write.workflow == wf.id, Write.status.in_(queries.INBOX_STATUSES))
            .count()
        )

    def workflow_pause_state(self: Console, name: str) -> WorkflowSwitchResult:
        """A workflow's pause as it stands (for the resume dialog), changing nothing."""
        wf = queries.get_workflow(name)
        cause = pause_cause(wf)
        return WorkflowSwitchResult(
            wf.name,
            False,
            wf.paused,
            wf.paused_by,
            wf.paused_reason,
            wf.paused_at,
            cause,
            review_owed(wf, cause),
            len(_held_ids(wf.id)),
        )

    def pause_workflow(self: Console, name: str, reason: str) -> WorkflowSwitchResult:
        """Pause one workflow: its queued runs are held, new ones are held, the engine
        kills its running commands, approvals of its writes are refused."""
        reason = _require_reason(reason, "pause")
        now = utcnow()
        with self.transaction():
            wf = queries.get_workflow(name)
            self.require_switch(f"pausing workflow {wf.name}", pausing=True, owner=wf.owner or "")
            if wf.paused:
                return self.workflow_pause_state(name)
            held = hold_queued_runs(
                self.db, Workflow.select(Workflow.id).where(Workflow.id == wf.id)
            )
            event = self.event(
                AuditAction.WORKFLOW_PAUSED,
                subject=wf.name,
                category=wf.category.name,
                workflow=wf.name,
                reason=reason,
                details={"held_runs": len(held)},
            )
            gate.change_workflow(
                self.db,
                wf.id,
                events=event,
                paused=(False, True),
                paused_by=self.actor,
                paused_reason=reason,
                paused_at=now,
            )
        return WorkflowSwitchResult(
            wf.name, True, True, self.actor, reason, now, None, None, len(held)
        )

    def resume_workflow(
        self: Console, name: str, reason: str, held: WorkflowHeldChoice = "keep"
    ) -> WorkflowSwitchResult:
        """Resume one workflow; its held runs are kept, replayed or discarded. Resuming
        a workflow that is not paused changes nothing (no audit event, no replay)."""
        reason = _require_reason(reason, "resume")
        if held not in ("keep", "replay", "discard"):
            raise BadInput(f"held: keep, replay or discard, not {held!r}")
        with self.transaction():
            wf = queries.get_workflow(name)
            self.require_switch(f"resuming workflow {wf.name}", pausing=False, owner=wf.owner or "")
            before = self.workflow_pause_state(name)
            if not wf.paused:
                return before
            ids = _held_ids(wf.id)
            event = self.event(
                AuditAction.WORKFLOW_RESUMED,
                subject=wf.name,
                category=wf.category.name,
                workflow=wf.name,
                reason=reason,
                details={
                    "paused_by": wf.paused_by,
                    "paused_reason": wf.paused_reason,
                    "cause": before.cause,
                    "review_due": before.review_due,
                    "held_choice": held,
                    "held_count": len(ids),
                },
            )
            gate.change_workflow(
                self.db,
                wf.id,
                events=event,
                paused=(True, False),
                paused_by=None,
                paused_reason=None,
                paused_at=None,
                consecutive_failures=0,
            )
            moved, left = self._resume_held(ids, held, reason)
        return WorkflowSwitchResult(
            wf.name,
            True,
            False,
            before.paused_by,
            before.paused_reason,
            before.paused_at,
            before.cause,
            before.review_due,
            len(ids) - moved,
            moved if held == "replay" else 0,
            moved if held == "discard" else 0,
            tuple(left),
        )

    def _resume_held(
        self: Console, ids: list[int], held: WorkflowHeldChoice, reason: str
    ) -> tuple[int, list[str]]:
        """Replay or discard a resumed workflow's held runs; a replay leaves held (and
        says why) the runs that a paused category or switch still covers."""
        if not ids or held == "keep":
            return 0, []
        if held == "discard":
            return self._decide_held(ids, "discard", reason)[0], []
        blocked = self._blocked_held(ids)
        go = [i for i in ids if i not in blocked]
        moved = self._decide_held(go, "replay", reason)[0] if go else 0
        return moved, left_texts(blocked)
