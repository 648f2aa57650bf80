"""Kill switches (DESIGN section 5) and held runs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from sophmate_desktop.domain import policy
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import EffectKind, RunStatus, SwitchScope
from sophmate_desktop.domain.errors import BadInput, NotFound, PolicyRefused
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.domain.roles import Role
from sophmate_desktop.domain.run_account import plural
from sophmate_desktop.store import queries
from sophmate_desktop.store.models import Category, Run, Switch, Workflow
from sophmate_desktop.store.rows import SwitchRow
from sophmate_desktop.store.transitions.runs import decide_held, hold_queued_runs
from sophmate_desktop.store.workflows import switch_states

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

# "by_category" (resuming everything only): every category stays paused, with its
# held runs, until someone resumes it; replay or discard is then chosen per category.
HeldChoice = Literal["keep", "replay", "discard", "by_category"]


def _require_reason(reason: str | None) -> str:
    if reason is None or not reason.strip():
        raise BadInput("--reason: a reason is required to pause or resume")
    return reason.strip()


@dataclass(frozen=True)
class BudgetRow:
    """A category's cost budgets (None: no budget for that period)."""

    name: str
    per_day: float | None
    per_month: float | None
    paused_now: str | None = None  # the reason, when setting it paused the category

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "per_day": self.per_day,
            "per_month": self.per_month,
            "paused_now": self.paused_now,
        }


def _budget_value(option: str, value: float | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInput(f"{option}: a number is required, not {value!r}")
    if not math.isfinite(number) or number < 0:
        raise BadInput(f"{option}: a budget is a finite number, 0 or more (got {value})")
    return number


def _effect(kind: str) -> EffectKind:
    try:
        return EffectKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in EffectKind)
        raise BadInput(f"unknown effect kind {kind!r} (use {allowed})")


def left_texts(blocked: dict[int, str]) -> list[str]:
    """One line per reason: "2 held runs stay held (4, 7): category finance is paused ..."."""
    by_reason: dict[str, list[int]] = {}
    for run_id, why in sorted(blocked.items()):
        by_reason.setdefault(why, []).append(run_id)
    return [
        f"{plural(len(ids), 'held run')} {'stays' if len(ids) == 1 else 'stay'} held "
        f"({', '.join(map(str, ids[:10]))}"
        f"{', ...' if len(ids) > 10 else ''}): {why}"
        for why, ids in by_reason.items()
    ]


class SwitchOps:
    def list_switches(self: Console) -> list[SwitchRow]:
        return queries.switch_rows()

    def _set_switch(
        self: Console,
        scope: SwitchScope,
        name: str,
        paused: bool,
        reason: str,
        held: HeldChoice = "keep",
    ) -> SwitchRow:
        reason = _require_reason(reason)
        if held == "by_category" and (paused or scope is not SwitchScope.GLOBAL):
            raise BadInput("held: by_category applies only to resuming everything")
        verb = "pausing" if paused else "resuming"
        what = "everything" if scope is SwitchScope.GLOBAL else f"{scope.value} {name}"
        self.require_switch(f"{verb} {what}", pausing=paused)
        now = utcnow()
        fields = {
            "paused": paused,
            "paused_by": self.actor if paused else None,
            "paused_reason": reason if paused else None,
            "paused_at": now if paused else None,
        }
        action = AuditAction(f"{scope.value}.{'paused' if paused else 'resumed'}")
        with self.transaction():
            if scope is SwitchScope.CATEGORY:
                cat = queries.get_category(name)
                was = cat.paused
                Category.update(**fields).where(Category.id == cat.id).execute()
                workflows = Workflow.select(Workflow.id).where(Workflow.category == cat.id)
            else:
                sw = Switch.get_or_none(Switch.scope == scope.value, Switch.name == name)
                if sw is None:
                    raise NotFound(f"no {scope.value} switch {name!r}")
                was = sw.paused
                Switch.update(**fields).where(Switch.id == sw.id).execute()
                workflows = Workflow.select(Workflow.id) if scope is SwitchScope.GLOBAL else None
            held_now = 0
            if paused and workflows is not None:
                # Runs that have not started yet are held, never dropped (DESIGN 5.1).
                held_now = len(hold_queued_runs(self.db, workflows))
            category = name if scope is SwitchScope.CATEGORY else None
            details: dict = {"was_paused": was, "held_runs": held_now}
            if held == "by_category":
                details["kept_paused"] = self._keep_categories_paused(sw, reason)
            if not paused and workflows is not None:
                ids = [
                    r.id
                    for r in Run.select(Run.id).where(
                        Run.status == RunStatus.HELD.value, Run.workflow.in_(workflows)
                    )
                ]
                details.update(held_choice=held, held_count=len(ids))
            self.audit(action, subject=name, category=category, reason=reason, details=details)
            left: list[str] = []
            if not paused and workflows is not None and held in ("replay", "discard") and ids:
                left = self._decide_held(ids, held, reason)[1]
        row = next(r for r in queries.switch_rows() if r.scope == scope.value and r.name == name)
        return replace(row, left_held=tuple(left))

    def _keep_categories_paused(self: Console, everything: Switch, reason: str) -> list[str]:
        """Pause every running category with the pause of `everything` (its who, when
        and why), so that resuming everything leaves each category to be resumed on its
        own. Categories paused on their own keep their own pause. Audited one by one."""
        if not everything.paused:
            raise BadInput("everything is not paused: there is nothing to resume by category")
        names = [
            c.name
            for c in Category.select(Category.name)
            .where(Category.paused == False)
            .order_by(Category.name)
        ]
        Category.update(
            paused=True,
            paused_by=everything.paused_by,
            paused_reason=everything.paused_reason,
            paused_at=everything.paused_at,
        ).where(Category.name.in_(names)).execute()
        for name in names:
            self.audit(
                AuditAction.CATEGORY_PAUSED,
                subject=name,
                category=name,
                reason=everything.paused_reason,
                details={"kept_from": "everything", "resumed_because": reason},
            )
        return names

    def category_spending(self: Console, name: str) -> tuple[float, float]:
        """What a category spent today and this month (UTC), as its budgets count it."""
        from sophmate_desktop.store.transitions.budget import spending

        return spending(name)

    def category_budget(self: Console, name: str) -> BudgetRow:
        cat = queries.get_category(name)
        return BudgetRow(cat.name, cat.budget_per_day, cat.budget_per_month)

    def set_category_budget(
        self: Console, name: str, per_day: float | None = None, per_month: float | None = None
    ) -> BudgetRow:
        """Set both cost budgets of a category (None clears one); audited. A spent
        budget pauses the category (engine/budget.py) when the next cost is stored."""
        day = _budget_value("--per-day", per_day)
        month = _budget_value("--per-month", per_month)
        self.require_role(Role.ADMINISTRATOR, "changing settings")
        with self.transaction():
            cat = queries.get_category(name)
            before = {"per_day": cat.budget_per_day, "per_month": cat.budget_per_month}
            Category.update(budget_per_day=day, budget_per_month=month).where(
                Category.id == cat.id
            ).execute()
            self.audit(
                AuditAction.CATEGORY_BUDGET_SET,
                subject=cat.name,
                category=cat.name,
                details={"per_day": day, "per_month": month, "before": before},
            )
            # A budget set below what was spent already pauses at once, not at the next cost.
            # (imported here: the notices it may record are not a pause's business)
            from sophmate_desktop.store.transitions.budget import check_budget

            pause = check_budget(self.db, cat.name)
        return BudgetRow(cat.name, day, month, pause.reason if pause else None)

    def pause_all(self: Console, reason: str) -> SwitchRow:
        return self._set_switch(SwitchScope.GLOBAL, "all", True, reason)

    def resume_all(self: Console, reason: str, held: HeldChoice = "keep") -> SwitchRow:
        return self._set_switch(SwitchScope.GLOBAL, "all", False, reason, held)

    def pause_category(self: Console, name: str, reason: str) -> SwitchRow:
        return self._set_switch(SwitchScope.CATEGORY, name, True, reason)

    def resume_category(
        self: Console, name: str, reason: str, held: HeldChoice = "keep"
    ) -> SwitchRow:
        return self._set_switch(SwitchScope.CATEGORY, name, False, reason, held)

    def pause_effect(self: Console, kind: str, reason: str) -> SwitchRow:
        return self._set_switch(SwitchScope.EFFECT, _effect(kind).value, True, reason)

    def resume_effect(self: Console, kind: str, reason: str) -> SwitchRow:
        return self._set_switch(SwitchScope.EFFECT, _effect(kind).value, False, reason)

    def blocking_switch(
        self: Console, category: str, effects: Sequence[EffectKind]
    ) -> policy.SwitchState | None:
        return policy.blocking_switch(switch_states(self.db), category=category, effects=effects)

    # Held runs -------------------------------------------------------------

    def list_held(self: Console, limit: int = 1000) -> list:
        return queries.list_runs(status=[RunStatus.HELD.value], limit=limit)

    def _held_ids(self: Console, ids: Sequence[int] | None) -> list[int]:
        query = Run.select(Run.id).where(Run.status == RunStatus.HELD.value)
        if ids is None:
            return [r.id for r in query.order_by(Run.id)]
        found = {r.id for r in query.where(Run.id.in_(list(ids)))}
        missing = [i for i in ids if i not in found]
        if missing:
            raise BadInput(f"not held runs: {', '.join(map(str, missing))}")
        return list(ids)

    def _decide_held(
        self: Console, ids: list[int], choice: HeldChoice, reason: str | None
    ) -> tuple[int, list[str]]:
        """Replay or discard held runs. A replay leaves held the runs that a switch or
        their workflow still pauses, and says why; it is refused only when none can go."""
        replay = choice == "replay"
        left: list[str] = []
        if replay:
            blocked = self._blocked_held(ids)
            if blocked and len(blocked) == len(ids):
                raise PolicyRefused("cannot be replayed: " + "; ".join(left_texts(blocked)))
            ids = [i for i in ids if i not in blocked]
            left = left_texts(blocked)
        action = AuditAction.HELD_REPLAYED if replay else AuditAction.HELD_DISCARDED

        def decided(moved: list[int]) -> Any:
            return self.event(
                action,
                subject=plural(len(moved), "held run"),
                reason=reason,
                details={"runs": ids[:1000], "count": len(moved), "left_held": left},
            )

        return len(decide_held(self.db, ids, replay, decided)), left

    def _blocked_held(self: Console, ids: list[int]) -> dict[int, str]:
        """The held runs among `ids` that cannot be replayed yet, each with the why."""
        switches = switch_states(self.db)
        rows = (
            Run.select(
                Run.id,
                Category.name.alias("cat"),
                Workflow.name.alias("wf"),
                Workflow.paused.alias("wf_paused"),
                Workflow.paused_reason.alias("wf_reason"),
                Workflow.definition.alias("wf_definition"),
            )
            .join(Workflow)
            .join(Category)
            .where(Run.id.in_(ids))
            .objects()
        )
        blocked: dict[int, str] = {}
        for row in rows:
            # A run that would ask an AI provider stays held while `ai` is paused.
            steps = (row.wf_definition or {}).get("steps") or []
            effects = [EffectKind.AI] if any(s.get("action") == "prompt" for s in steps) else []
            sw = policy.blocking_switch(switches, category=row.cat, effects=effects)
            if sw is not None:
                blocked[row.id] = policy.switch_refusal_text(sw)
            elif row.wf_paused:
                blocked[row.id] = f"workflow {row.wf} is paused: {row.wf_reason or 'no reason'}"
        return blocked

    def replay_held(
        self: Console, ids: Sequence[int] | None = None, reason: str | None = None
    ) -> int:
        return self.replay_held_saying(ids, reason)[0]

    def replay_held_saying(
        self: Console, ids: Sequence[int] | None = None, reason: str | None = None
    ) -> tuple[int, list[str]]:
        """Replay held runs; returns how many were queued again and why the others
        stay held (a switch or their workflow still paused)."""
        with self.transaction():
            return self._decide_held(self._held_ids(ids), "replay", reason)

    def discard_held(
        self: Console, ids: Sequence[int] | None = None, reason: str | None = None
    ) -> int:
        with self.transaction():
            return self._decide_held(self._held_ids(ids), "discard", reason)[0]
