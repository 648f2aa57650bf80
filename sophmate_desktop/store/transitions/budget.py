"""Category cost budgets (DESIGN 4 "Pause rules"): a category whose runs have spent its
budget for the UTC day or month pauses itself, audited and notified, never silently.

`check_budget` runs inside the transaction that stores a run's cost, so the cost, the
pause, the audit event and the notification commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import Database, fn

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.names import POLICY_ACTOR, AuditAction
from sophmate_desktop.store import audit
from sophmate_desktop.store.models import Category, PromptCall, Run, Workflow
from sophmate_desktop.store.notifications import record_notification
from sophmate_desktop.store.transitions.runs import hold_queued_runs


@dataclass(frozen=True)
class BudgetPause:
    category: str
    period: str  # day | month
    spent: float
    budget: float
    reason: str
    held_runs: int
    event_id: int
    notification_id: int


def period_start(period: str, now: dt.datetime) -> dt.datetime:
    """The start of the UTC day or month holding `now` (naive UTC)."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day if period == "day" else day.replace(day=1)


def spent_since(category_id: int, since: dt.datetime) -> float:
    """Cost reported by the category's runs started since `since`. A dry run writes
    nothing, so its planned writes spend nothing; the prompts a dry run sent
    (`dry_run_prompts: true`) were paid for, and count."""
    workflows = Workflow.select(Workflow.id).where(Workflow.category == category_id)
    total = (
        Run.select(fn.COALESCE(fn.SUM(Run.cost), 0.0))
        .where(
            Run.workflow.in_(workflows),
            Run.started_at >= since,
            Run.mode != "dry_run",
        )
        .scalar()
    )
    dry_runs = Run.select(Run.id).where(
        Run.workflow.in_(workflows), Run.started_at >= since, Run.mode == "dry_run"
    )
    prompts = (
        PromptCall.select(fn.COALESCE(fn.SUM(PromptCall.cost), 0.0))
        .where(PromptCall.run_id.in_(dry_runs), PromptCall.cost > 0)
        .scalar()
    )
    return float(total or 0.0) + float(prompts or 0.0)


def spending(category_name: str, now: dt.datetime | None = None) -> tuple[float, float]:
    """What the category spent (today, this month), UTC, as its budgets count it."""
    cat = Category.get_or_none(Category.name == category_name)
    if cat is None:
        return 0.0, 0.0
    now = now or utcnow()
    return (
        spent_since(cat.id, period_start("day", now)),
        spent_since(cat.id, period_start("month", now)),
    )


def budget_reason(spent: float, budget: float, period: str) -> str:
    when = "today" if period == "day" else "this month"
    return f"cost budget spent: {spent:.2f} of {budget:.2f} {when}"


def check_budget(
    db: Database, category_name: str, *, run_id: int | None = None
) -> BudgetPause | None:
    """Inside a write transaction: pause the category when a budget is spent.

    Returns the pause made, or None (no budget, not spent, or paused already).
    """
    cat = Category.get_or_none(Category.name == category_name)
    if cat is None or cat.paused:
        return None
    now = utcnow()
    for period, budget in (("day", cat.budget_per_day), ("month", cat.budget_per_month)):
        if budget is None:
            continue
        spent = spent_since(cat.id, period_start(period, now))
        if spent >= budget:
            return _pause(db, cat, period, spent, budget, now, run_id)
    return None


def _pause(
    db: Database,
    cat: Category,
    period: str,
    spent: float,
    budget: float,
    now: dt.datetime,
    run_id: int | None,
) -> BudgetPause | None:
    reason = budget_reason(spent, budget, period)
    changed = (
        Category.update(paused=True, paused_by=POLICY_ACTOR, paused_reason=reason, paused_at=now)
        .where(Category.id == cat.id, Category.paused == False)
        .execute()
    )
    if not changed:  # paused meanwhile by someone else: theirs stands
        return None
    # Runs that have not started yet are held, never dropped (as a manual pause does).
    workflows = Workflow.select(Workflow.id).where(Workflow.category == cat.id)
    held = len(hold_queued_runs(db, workflows))
    details = {
        "cause": "budget",
        "period": period,
        "spent": round(spent, 6),
        "budget": budget,
        "was_paused": False,
        "held_runs": held,
    }
    event_id = audit.append(
        db,
        actor=POLICY_ACTOR,
        action=AuditAction.CATEGORY_PAUSED,
        subject=cat.name,
        category=cat.name,
        run=run_id,
        reason=reason,
        details=details,
    )
    note_id = record_notification(
        "warning",
        "auto_paused",
        f"Category {cat.name} paused itself: {reason}",
        "Raise or clear its budget, or wait for the next "
        f"{'day' if period == 'day' else 'month'} (UTC), then resume it.",
        run=run_id,
        group_key=f"auto_paused:category:{cat.name}",
        category=cat.name,
    )
    return BudgetPause(cat.name, period, spent, budget, reason, held, event_id, note_id)
