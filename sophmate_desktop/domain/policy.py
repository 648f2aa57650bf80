"""Safety rules (DESIGN.md 4 and 5) as pure functions.

Each function returns data the UI and the CLI show as is: refusals and reasons are
plain sentences, None means "allowed".
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sophmate_desktop.domain.enums import (
    ApprovalMode,
    EffectKind,
    ReviewKind,
    RunMode,
    Stage,
    SwitchScope,
)
from sophmate_desktop.domain.errors import IllegalTransition
from sophmate_desktop.domain.roles import person_of
from sophmate_desktop.domain.states import check_stage
from sophmate_desktop.domain.workflow import ApprovalSpec, PauseSpec, WorkflowDefinition

# --- production checklist -------------------------------------------------------------

CHECKLIST_ITEMS: tuple[str, ...] = (
    "owner",
    "trigger",
    "input scope",
    "output",
    "approval gate",
    "retry limit",
    "notification path",
    "pause rule",
    "rollback path",
)


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


def missing_checklist_items(defn: WorkflowDefinition) -> list[str]:
    """The checklist items `defn` lacks, in CHECKLIST_ITEMS order."""
    present = {
        "owner": not _blank(defn.owner),
        "trigger": defn.trigger is not None,
        "input scope": defn.input is not None,
        "output": defn.output is not None and bool(defn.output.paths),
        "approval gate": defn.approval is not None,
        "retry limit": defn.retry is not None,
        "notification path": defn.notify is not None and bool(defn.notify.on_failure),
        "pause rule": defn.pause is not None,
        "rollback path": not _blank(defn.rollback),
    }
    return [item for item in CHECKLIST_ITEMS if not present[item]]


def checklist_refusal(defn: WorkflowDefinition) -> str | None:
    """Why `defn` may not be enabled, or None when its checklist is complete."""
    missing = missing_checklist_items(defn)
    if not missing:
        return None
    return f"cannot enable {defn.name}: missing {', '.join(missing)}"


# --- graduation -----------------------------------------------------------------------

_STAGE_RANK = {Stage.DRY_RUN: 0, Stage.STAGING: 1, Stage.PRODUCTION: 2}


def _runs(count: int, what: str) -> str:
    return f"{count} {what}" + ("" if count == 1 else "s")


def graduation_refusal(
    current: Stage,
    target: Stage,
    *,
    reviewed_successful_dry_runs: int,
    reviewed_successful_staging_runs: int,
    required_staging_runs: int,
    missing_checklist: Sequence[str],
) -> str | None:
    """Why a workflow may not move from stage `current` to `target`, or None.

    Demotion is always allowed; promotion goes one stage at a time and needs
    reviewed successful runs in the stage it leaves (and, for production, a
    complete checklist).
    """
    current, target = Stage(current), Stage(target)
    if current is target:
        return f"already in {target}"
    try:
        check_stage(current, target)
    except IllegalTransition:
        skipped = next(s for s, rank in _STAGE_RANK.items() if _STAGE_RANK[current] < rank)
        return f"cannot go from {current} to {target}: promote to {skipped} first"
    if _STAGE_RANK[target] < _STAGE_RANK[current]:
        return None
    if target is Stage.STAGING:
        if reviewed_successful_dry_runs < 1:
            return (
                "cannot promote to staging: needs 1 reviewed successful dry run "
                f"({reviewed_successful_dry_runs} so far)"
            )
        return None
    problems = []
    if reviewed_successful_staging_runs < required_staging_runs:
        problems.append(
            f"needs {_runs(required_staging_runs, 'reviewed successful staging run')}, "
            f"has {reviewed_successful_staging_runs} of {required_staging_runs} "
            "reviewed staging runs"
        )
    if missing_checklist:
        problems.append(f"missing {', '.join(missing_checklist)}")
    if problems:
        return "cannot promote to production: " + "; ".join(problems)
    return None


# --- approval gate --------------------------------------------------------------------


@dataclass(frozen=True)
class GateDecision:
    needs_approval: bool
    reason: str


def approval_decision(
    *,
    mode: RunMode,
    approval: ApprovalSpec | None,
    customer_facing: bool,
    clean_approved_runs: int,
    gate_tightened: bool,
    ai_drafted: bool = False,
) -> GateDecision:
    """Whether a write of a run in `mode` waits in the inbox, and why.

    `clean_approved_runs` counts runs approved and applied without failure;
    `gate_tightened` says a failed run or a change to the workflow or one of its
    connections came after the gate was relaxed. A customer-facing write drafted by
    an AI (`ai_drafted`) always waits: no override and no clean runs relax that.
    """
    if RunMode(mode) is RunMode.DRY_RUN:
        return GateDecision(True, "dry run: planned only")
    if approval is None:
        return GateDecision(True, "no approval gate declared")
    if customer_facing and ai_drafted:
        return GateDecision(True, "AI-drafted customer-facing output always needs approval")
    if customer_facing and not approval.customer_facing_override:
        return GateDecision(True, "customer-facing output always needs approval")
    try:
        gate_mode = ApprovalMode(approval.mode)
    except ValueError:
        gate_mode = ApprovalMode.ALWAYS  # an unknown mode must never relax the gate
    if gate_mode is ApprovalMode.ALWAYS:
        return GateDecision(True, "approval gate: always")
    needed = approval.reviewed_runs
    if clean_approved_runs < needed:
        progress = f"{clean_approved_runs} of {needed} approved runs without failure"
        return GateDecision(True, progress)
    if gate_tightened:
        return GateDecision(
            True,
            "approval gate tightened again after a failed run or a change "
            "to the workflow or a connection it uses",
        )
    return GateDecision(False, f"approval gate relaxed after {needed} clean runs")


# --- four eyes ------------------------------------------------------------------------


def _person(name: str | None) -> str:
    # "as NAME by alice" (--actor on one desktop) is alice: --actor never gets past four eyes
    return person_of(name).casefold()


def four_eyes_refusal(
    *, approver: str, last_changed_by: str | None, enabled: bool, workflow: str
) -> str | None:
    """Refuse an approval by the person who changed `workflow` last (when enabled)."""
    if not enabled or not _person(last_changed_by):
        return None
    if _person(approver) != _person(last_changed_by):
        return None
    return f"you changed workflow {workflow} last; four-eyes rule: another person must approve"


def approvers_needed(
    workflow_approvers: int, *, customer_facing: bool, customer_facing_approvers: int
) -> int:
    """How many distinct people approve a write before it is applied: the workflow's
    `approval.approvers`, raised for customer-facing writes by the console setting."""
    needed = max(1, int(workflow_approvers or 1))
    if customer_facing:
        needed = max(needed, int(customer_facing_approvers or 1))
    return needed


def repeat_approval_refusal(*, approver: str, given_by: Iterable[str]) -> str | None:
    """Refuse a second approval of one write by the same person."""
    if _person(approver) in {_person(p) for p in given_by}:
        return "you approved it already; another person must give the next approval"
    return None


# --- escalation -----------------------------------------------------------------------


@dataclass(frozen=True)
class EscalationFlag:
    code: str
    reason: str


def escalation_flags(
    *,
    stage: Stage,
    has_owner: bool,
    consecutive_failures: int,
    failure_threshold: int,
    writes_production_data: bool,
    sends_customer_facing: bool,
) -> list[EscalationFlag]:
    """Flags to show on the dashboard (and notify) for one workflow."""
    flags = []
    if Stage(stage) is Stage.PRODUCTION and writes_production_data:
        flags.append(EscalationFlag("production_writes", "writes production data"))
    if consecutive_failures >= 2:
        flags.append(
            EscalationFlag(
                "repeated_failures",
                f"failed {consecutive_failures} runs in a row "
                f"(pauses itself at {max(1, failure_threshold)})",
            )
        )
    if sends_customer_facing:
        flags.append(EscalationFlag("customer_facing", "sends customer-facing output"))
    if not has_owner:
        flags.append(EscalationFlag("no_owner", "has no visible owner"))
    return flags


# --- review cadence -------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewDue:
    kind: ReviewKind
    due_at: _dt.datetime
    overdue: bool
    reason: str


def _minute(at: _dt.datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(_dt.UTC).replace(tzinfo=None)
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _since_review(at: _dt.datetime | None, last_reviewed_at: _dt.datetime | None) -> bool:
    return at is not None and (last_reviewed_at is None or at > last_reviewed_at)


def reviews_due(
    *,
    now: _dt.datetime,
    created_at: _dt.datetime,
    last_reviewed_at: _dt.datetime | None,
    first_run_reviewed: bool,
    last_failure_at: _dt.datetime | None,
    last_provider_change_at: _dt.datetime | None,
    monthly_days: int = 30,
    grace_days: int = 7,
) -> list[ReviewDue]:
    """The reviews a workflow owes at `now`, oldest first; overdue after the grace days."""
    grace = _dt.timedelta(days=grace_days)
    wanted: list[tuple[ReviewKind, _dt.datetime, str]] = []
    if not first_run_reviewed:
        wanted.append((ReviewKind.FIRST_RUN, created_at, "the first run has not been reviewed"))
    if _since_review(last_failure_at, last_reviewed_at):
        assert last_failure_at is not None
        wanted.append(
            (
                ReviewKind.AFTER_FAILURE,
                last_failure_at,
                f"a run failed at {_minute(last_failure_at)} and has not been reviewed",
            )
        )
    if _since_review(last_provider_change_at, last_reviewed_at):
        assert last_provider_change_at is not None
        wanted.append(
            (
                ReviewKind.PROVIDER_CHANGE,
                last_provider_change_at,
                f"a provider changed at {_minute(last_provider_change_at)} "
                "and has not been reviewed",
            )
        )
    base = last_reviewed_at or created_at
    wanted.append(
        (
            ReviewKind.MONTHLY,
            base + _dt.timedelta(days=monthly_days),
            f"monthly review ({monthly_days} days since {_minute(base)})",
        )
    )
    due = []
    for kind, due_at, reason in wanted:
        if due_at > now:
            continue
        overdue = now > due_at + grace
        if overdue:
            reason = f"{reason}; overdue since {_minute(due_at + grace)}"
        due.append(ReviewDue(kind, due_at, overdue, reason))
    return sorted(due, key=lambda d: d.due_at)


def overdue_escalates(due: ReviewDue) -> bool:
    """An overdue review of any kind escalates (listed on the dashboard and notified)."""
    return due.overdue


# --- pause rules ----------------------------------------------------------------------

DEFAULT_PAUSE = PauseSpec()


def should_pause_after_failure(consecutive_failures: int, pause: PauseSpec | None) -> bool:
    """A workflow pauses itself once this many runs in a row failed (default 3)."""
    threshold = (pause or DEFAULT_PAUSE).consecutive_failures
    return consecutive_failures >= max(1, threshold)


def pauses_on_provider_change(pause: PauseSpec | None) -> bool:
    """Whether a change to a connection the workflow uses pauses it (default yes)."""
    return (pause or DEFAULT_PAUSE).on_provider_change


def pauses_on_plugin_update(pause: PauseSpec | None) -> bool:
    """Whether a new version of a custom-action plug-in it uses pauses it (default yes)."""
    return (pause or DEFAULT_PAUSE).on_plugin_update


# --- kill switches --------------------------------------------------------------------


@dataclass(frozen=True)
class SwitchState:
    scope: SwitchScope
    name: str
    paused: bool
    by: str | None
    reason: str | None
    at: _dt.datetime | None


_SCOPE_ORDER = (SwitchScope.GLOBAL, SwitchScope.CATEGORY, SwitchScope.EFFECT)


def blocking_switch(
    switches: Iterable[SwitchState], *, category: str, effects: Iterable[EffectKind]
) -> SwitchState | None:
    """The paused switch that stops work of `category` with `effects`, or None.

    The global switch wins over a category switch, which wins over an effect switch.
    """
    effect_names = {str(e) for e in effects}
    paused = [s for s in switches if s.paused]

    def covers(sw: SwitchState) -> bool:
        scope = SwitchScope(sw.scope)
        if scope is SwitchScope.GLOBAL:
            return True
        if scope is SwitchScope.CATEGORY:
            return sw.name == category
        return sw.name in effect_names

    for scope in _SCOPE_ORDER:
        for sw in paused:
            if SwitchScope(sw.scope) is scope and covers(sw):
                return sw
    return None


def switch_refusal_text(sw: SwitchState) -> str:
    """E.g. "category finance is paused by ana at 2026-11-27 10:02 UTC: hosting incident"."""
    scope = SwitchScope(sw.scope)
    if scope is SwitchScope.GLOBAL:
        what = "all automation"
    elif scope is SwitchScope.CATEGORY:
        what = f"category {sw.name}"
    else:
        what = f"effect {sw.name}"
    if not sw.paused:
        raise ValueError(f"{what} is not paused")
    text = f"{what} is paused"
    if not _blank(sw.by):
        text += f" by {sw.by}"
    if sw.at is not None:
        text += f" at {_minute(sw.at)}"
    if not _blank(sw.reason):
        text += f": {sw.reason}"
    return text
