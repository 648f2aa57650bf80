"""Escalation flags of a stored workflow, and the "escalation raised" notice recorded
once per (workflow, flag) when a flag appears (its deliveries say who was told)."""

from __future__ import annotations

from sophmate_desktop.domain import policy
from sophmate_desktop.domain.enums import Stage
from sophmate_desktop.domain.workflow import WorkflowDefinition
from sophmate_desktop.store.models import Category, Notification, Workflow
from sophmate_desktop.store.notifications import record_notification
from sophmate_desktop.store.workflows import load_workflow


def escalation_flags(wf: Workflow, defn: WorkflowDefinition | None) -> list[policy.EscalationFlag]:
    """Why `wf` needs attention by what it is (`defn` None: its definition is unreadable)."""
    pause = (defn.pause if defn else None) or policy.DEFAULT_PAUSE
    return policy.escalation_flags(
        stage=Stage(wf.stage),
        has_owner=bool((wf.owner or "").strip()),
        consecutive_failures=wf.consecutive_failures,
        failure_threshold=pause.consecutive_failures,
        writes_production_data=bool(defn and defn.steps),
        sends_customer_facing=bool(defn and defn.sends_customer_facing),
    )


def escalation_key(workflow: str, code: str) -> str:
    return f"escalation:{workflow}:{code}"[:128]


def raise_escalations() -> list[int]:
    """Inside a transaction: notify each workflow's new flags; the notice ids."""
    raised = []
    told = {
        n.group_key
        for n in Notification.select(Notification.group_key).where(
            Notification.kind == "escalation"
        )
    }
    query = Workflow.select(Workflow, Category.name.alias("cat")).join(Category)
    for wf in query.objects():
        try:
            defn = load_workflow(wf, wf.cat).definition
        except Exception:  # an unreadable definition is shown elsewhere; no flags from it
            defn = None
        for flag in escalation_flags(wf, defn):
            key = escalation_key(wf.name, flag.code)
            if key in told:
                continue
            told.add(key)
            raised.append(
                record_notification(
                    "warning",
                    "escalation",
                    f"{wf.name} escalated: {flag.reason}",
                    f"Owner: {wf.owner or 'none'}. Review it on the dashboard.",
                    workflow=wf.name,
                    group_key=key,
                )
            )
    return raised
