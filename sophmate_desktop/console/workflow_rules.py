"""The rules of domain.policy applied to a stored workflow: the reviews it owes and
why it is escalated. The dashboard, the reviews page and the workflows table all
show these, so they read them here, the same way."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from sophmate_desktop.domain import policy
from sophmate_desktop.domain.names import POLICY_ACTOR
from sophmate_desktop.domain.workflow import WorkflowDefinition
from sophmate_desktop.store.escalations import escalation_flags
from sophmate_desktop.store.models import Workflow


@dataclass(frozen=True)
class Escalation:
    workflow: str
    category: str
    owner: str | None
    stage: str
    codes: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ReviewDueRow:
    workflow: str
    owner: str | None
    kind: str  # a ReviewKind value: what console.record_review accepts
    reason: str
    due_since: _dt.datetime
    overdue: bool
    category: str = ""
    stage: str = ""

    @property
    def id(self) -> tuple[str, str]:
        return (self.workflow, self.kind)


def reviews_owed(wf: Workflow, now: _dt.datetime) -> list[policy.ReviewDue]:
    """The reviews `wf` owes at `now`, oldest first."""
    return policy.reviews_due(
        now=now,
        created_at=wf.created_at,
        last_reviewed_at=wf.last_reviewed_at,
        first_run_reviewed=wf.first_run_reviewed,
        last_failure_at=wf.last_failure_at,
        last_provider_change_at=wf.last_provider_change_at,
    )


def due_rows(wf: Workflow, category: str, now: _dt.datetime) -> list[ReviewDueRow]:
    return [
        ReviewDueRow(
            workflow=wf.name,
            owner=wf.owner,
            kind=due.kind.value,
            reason=due.reason,
            due_since=due.due_at,
            overdue=due.overdue,
            category=category,
            stage=wf.stage,
        )
        for due in reviews_owed(wf, now)
    ]


def sorted_due(rows: list[ReviewDueRow]) -> list[ReviewDueRow]:
    """Overdue first, then the oldest."""
    return sorted(rows, key=lambda r: (not r.overdue, r.due_since, r.workflow))


def escalation(
    wf: Workflow, defn: WorkflowDefinition, category: str, due: list[ReviewDueRow]
) -> Escalation | None:
    """`wf` escalated by what it is, a pause, or an overdue review; None when it is not."""
    pairs = [(f.code, f.reason) for f in escalation_flags(wf, defn)]
    if wf.paused:
        # An automatic pause is never silent: it stays listed until someone resumes.
        who = "paused itself" if wf.paused_by == POLICY_ACTOR else f"paused by {wf.paused_by}"
        pairs.append(("paused", f"{who}: {wf.paused_reason or 'no reason given'}"))
    pairs += [
        ("review_overdue", f"{d.kind.replace('_', ' ')} review overdue") for d in due if d.overdue
    ]
    if not pairs:
        return None
    return Escalation(
        workflow=wf.name,
        category=category,
        owner=wf.owner,
        stage=wf.stage,
        codes=tuple(code for code, _ in pairs),
        reasons=tuple(reason for _, reason in pairs),
    )
