"""Console calls for the dashboard's figures and the reviews page.

Counts over runs and writes are SQL aggregates (GROUP BY); Python only loops over
workflows and categories (a few dozen rows), whose rules live in domain/policy.
"""

from __future__ import annotations

import datetime as _dt
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from peewee import Case, fn

from sophmate_desktop.domain import policy
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import RunMode, RunStatus, Stage, WriteStatus
from sophmate_desktop.domain.workflow import WorkflowDefinition
from sophmate_desktop.domain.workflow_file import definition_from_dict
from sophmate_desktop.store import queries
from sophmate_desktop.store.models import Category, Review, Run, Switch, Workflow, Write

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

CHART_DAYS = 14
MONTH_DAYS = 30  # the review dialog's "last 30 days" figures
FINISHED = (RunStatus.SUCCEEDED.value, RunStatus.FAILED.value, RunStatus.REJECTED.value)
NEXT_STAGE = {Stage.DRY_RUN: Stage.STAGING, Stage.STAGING: Stage.PRODUCTION}


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


@dataclass(frozen=True)
class CategoryHealth:
    category: str
    runs_24h: int  # runs that finished in the last 24 hours
    failed_24h: int
    pending_writes: int
    held_runs: int
    paused: bool
    paused_workflows: int
    health: str  # green | amber | red
    note: str  # why that colour, in words


@dataclass(frozen=True)
class DayCount:
    day: _dt.date
    succeeded: int
    failed: int


@dataclass(frozen=True)
class DashboardData:
    pending_writes: int
    interrupted_writes: int
    failed_runs_24h: int
    held_runs: int
    paused_switches: int
    paused_names: tuple[str, ...]
    escalations: tuple[Escalation, ...]
    reviews: tuple[ReviewDueRow, ...]
    categories: tuple[CategoryHealth, ...]
    runs_per_day: tuple[DayCount, ...]  # CHART_DAYS days, oldest first, zeros included
    at: _dt.datetime


@dataclass(frozen=True)
class UnreviewedRunsRow:
    """A workflow in dry_run or staging whose finished runs in that stage await a review."""

    workflow: str
    owner: str | None
    stage: str
    succeeded: int
    failed: int
    reviewed_successful: int
    required: int  # reviewed successful runs the next promotion needs

    @property
    def id(self) -> str:
        return self.workflow

    @property
    def progress(self) -> str:
        mode = "dry run" if self.stage == Stage.DRY_RUN else "staging run"
        if self.reviewed_successful >= self.required:
            return f"enough reviewed {mode}s ({self.reviewed_successful}; needs {self.required})"
        return f"{self.reviewed_successful} of {self.required} reviewed {mode}s"


@dataclass(frozen=True)
class ReviewSummary:
    """What a reviewer reads before recording a review of one workflow."""

    workflow: str
    category: str
    owner: str | None
    stage: str
    last_reviewed_at: _dt.datetime | None
    last_reviewer: str | None
    unreviewed_succeeded: int  # finished runs since the last review, by outcome
    unreviewed_failed: int
    unreviewed_rejected: int
    due: tuple[ReviewDueRow, ...]
    next_stage: str | None
    promotion_now: str | None  # refusal text for promoting today; None = allowed
    promotion_after: str | None  # the same once this review marks the runs reviewed
    # Runs that finished in the last MONTH_DAYS days (what a monthly review checks).
    month_runs: int = 0
    month_failed: int = 0
    month_records: int = 0
    month_cost: float = 0.0

    @property
    def unreviewed(self) -> int:
        return self.unreviewed_succeeded + self.unreviewed_failed + self.unreviewed_rejected


def category_health(
    *, runs: int, failed: int, paused: bool, all_paused: bool, paused_workflows: int, held: int
) -> tuple[str, str]:
    """(colour, why): red when stopped or mostly failing, amber when something needs a look."""
    if all_paused:
        return "red", "all automation is paused"
    if paused:
        return "red", "the category is paused"
    if failed and failed * 2 >= runs:
        return "red", f"{failed} of {runs} runs failed in 24 h"
    notes = []
    if failed:
        notes.append(f"{failed} of {runs} runs failed in 24 h")
    if paused_workflows:
        notes.append(f"{paused_workflows} workflow{'s' * (paused_workflows != 1)} paused")
    if held:
        notes.append(f"{held} held run{'s' * (held != 1)}")
    if notes:
        return "amber", "; ".join(notes)
    return "green", "no failures in 24 h, nothing paused"


def _as_date(value: object) -> _dt.date:
    # SQLite's date() gives text, PostgreSQL's a date.
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    return _dt.date.fromisoformat(str(value)[:10])


def _definition(wf: Workflow) -> WorkflowDefinition:
    return definition_from_dict(wf.definition)


def _due_rows(wf: Workflow, category: str, now: _dt.datetime) -> list[ReviewDueRow]:
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
        for due in policy.reviews_due(
            now=now,
            created_at=wf.created_at,
            last_reviewed_at=wf.last_reviewed_at,
            first_run_reviewed=wf.first_run_reviewed,
            last_failure_at=wf.last_failure_at,
            last_provider_change_at=wf.last_provider_change_at,
        )
    ]


def _escalation(wf: Workflow, category: str, due: list[ReviewDueRow]) -> Escalation | None:
    defn = _definition(wf)
    flags = policy.escalation_flags(
        stage=Stage(wf.stage),
        has_owner=bool((wf.owner or "").strip()),
        consecutive_failures=wf.consecutive_failures,
        failure_threshold=(defn.pause or policy.DEFAULT_PAUSE).consecutive_failures,
        writes_production_data=bool(defn.steps),
        sends_customer_facing=defn.sends_customer_facing,
    )
    pairs = [(f.code, f.reason) for f in flags]
    if wf.paused:
        # An automatic pause is never silent: it stays listed until someone resumes.
        who = "paused itself" if wf.paused_by == "policy" else f"paused by {wf.paused_by}"
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


def _workflows() -> list[tuple[Workflow, str]]:
    return queries.list_workflow_models()


class DashboardOps:
    def dashboard(self: Console, now: _dt.datetime | None = None) -> DashboardData:
        """Everything the dashboard shows, read in one go."""
        now = now or utcnow()
        writes: dict[str, dict[str, int]] = defaultdict(dict)
        for cat, status, n in (
            Write.select(Write.category, Write.status, fn.COUNT(Write.id))
            .where(Write.status.in_(list(queries.INBOX_STATUSES)))
            .group_by(Write.category, Write.status)
            .tuples()
        ):
            writes[cat][status] = n
        pending = sum(v.get(WriteStatus.PENDING.value, 0) for v in writes.values())
        interrupted = sum(v.get(WriteStatus.INTERRUPTED.value, 0) for v in writes.values())

        finished, per_day = _finished_runs(now)
        held: dict[int, int] = dict(
            Run.select(Workflow.category, fn.COUNT(Run.id))
            .join(Workflow)
            .where(Run.status == RunStatus.HELD.value)
            .group_by(Workflow.category)
            .tuples()
        )

        switches = list(Switch.select().where(Switch.paused == True).order_by(Switch.name))
        all_paused = any(s.scope == "global" for s in switches)
        categories = list(Category.select().order_by(Category.name))
        paused_names = tuple(
            ["all" for s in switches if s.scope == "global"]
            + [c.name for c in categories if c.paused]
            + [s.name for s in switches if s.scope != "global"]
        )

        escalations: list[Escalation] = []
        reviews: list[ReviewDueRow] = []
        paused_workflows: dict[str, int] = defaultdict(int)
        for wf, cat_name in _workflows():
            due = _due_rows(wf, cat_name, now)
            reviews += due
            esc = _escalation(wf, cat_name, due)
            if esc is not None:
                escalations.append(esc)
            if wf.paused:
                paused_workflows[cat_name] += 1

        health = []
        for cat in categories:
            counts = finished.get(cat.id, {})
            runs, failed = sum(counts.values()), counts.get(RunStatus.FAILED.value, 0)
            colour, note = category_health(
                runs=runs,
                failed=failed,
                paused=cat.paused,
                all_paused=all_paused,
                paused_workflows=paused_workflows[cat.name],
                held=held.get(cat.id, 0),
            )
            health.append(
                CategoryHealth(
                    category=cat.name,
                    runs_24h=runs,
                    failed_24h=failed,
                    pending_writes=writes[cat.name].get(WriteStatus.PENDING.value, 0),
                    held_runs=held.get(cat.id, 0),
                    paused=cat.paused,
                    paused_workflows=paused_workflows[cat.name],
                    health=colour,
                    note=note,
                )
            )

        return DashboardData(
            pending_writes=pending,
            interrupted_writes=interrupted,
            failed_runs_24h=sum(c.get(RunStatus.FAILED.value, 0) for c in finished.values()),
            held_runs=sum(held.values()),
            paused_switches=len(paused_names),
            paused_names=paused_names,
            escalations=tuple(escalations),
            reviews=tuple(_sorted_due(reviews)),
            categories=tuple(health),
            runs_per_day=tuple(_chart_days(now.date(), per_day)),
            at=now,
        )

    def runs_per_day(self: Console, now: _dt.datetime | None = None) -> list[DayCount]:
        """Succeeded and failed runs per UTC day (by finish time), the last CHART_DAYS days."""
        return _chart_days((now or utcnow()).date(), _finished_runs(now or utcnow())[1])

    def escalations(self: Console, now: _dt.datetime | None = None) -> list[Escalation]:
        """Escalated workflows with their reasons (production data, customer-facing
        output, repeated failures, no owner, a pause, an overdue review), by name."""
        now = now or utcnow()
        rows = []
        for wf, cat_name in _workflows():
            esc = _escalation(wf, cat_name, _due_rows(wf, cat_name, now))
            if esc is not None:
                rows.append(esc)
        return rows

    def reviews_due(self: Console, now: _dt.datetime | None = None) -> list[ReviewDueRow]:
        """Due and overdue reviews of every workflow: overdue first, then oldest first."""
        now = now or utcnow()
        rows: list[ReviewDueRow] = []
        for wf, cat_name in _workflows():
            rows += _due_rows(wf, cat_name, now)
        return _sorted_due(rows)

    def runs_awaiting_review(self: Console) -> list[UnreviewedRunsRow]:
        """Workflows before production whose finished runs in their stage await a review
        (reviewed successful runs are what promotion counts)."""
        before_production = [
            wf.id
            for wf in Workflow.select(Workflow.id).where(Workflow.stage != Stage.PRODUCTION.value)
        ]
        if not before_production:
            return []
        unreviewed: dict[int, dict[str, int]] = defaultdict(dict)
        for wf_id, status, n in (
            Run.select(Run.workflow, Run.status, fn.COUNT(Run.id))
            .join(Workflow)
            .where(
                Run.workflow.in_(before_production),  # the (workflow, id) index
                Run.reviewed_at.is_null(),
                Run.status.in_(list(FINISHED)),
                Run.mode == Workflow.stage,
            )
            .group_by(Run.workflow, Run.status)
            .tuples()
        ):
            unreviewed[wf_id][status] = n
        if not unreviewed:
            return []
        reviewed_ok = dict(
            Run.select(Run.workflow, fn.COUNT(Run.id))
            .join(Workflow)
            .where(
                Run.workflow.in_(list(unreviewed)),
                Run.reviewed_at.is_null(False),
                Run.status == RunStatus.SUCCEEDED.value,
                Run.mode == Workflow.stage,
            )
            .group_by(Run.workflow)
            .tuples()
        )
        rows = []
        for wf in (
            Workflow.select().where(Workflow.id.in_(list(unreviewed))).order_by(Workflow.name)
        ):
            counts = unreviewed[wf.id]
            required = 1 if wf.stage == Stage.DRY_RUN else _definition(wf).graduation.staging_runs
            rows.append(
                UnreviewedRunsRow(
                    workflow=wf.name,
                    owner=wf.owner,
                    stage=wf.stage,
                    succeeded=counts.get(RunStatus.SUCCEEDED.value, 0),
                    failed=counts.get(RunStatus.FAILED.value, 0)
                    + counts.get(RunStatus.REJECTED.value, 0),
                    reviewed_successful=reviewed_ok.get(wf.id, 0),
                    required=required,
                )
            )
        return rows

    def review_summary(self: Console, name: str, now: _dt.datetime | None = None) -> ReviewSummary:
        """The workflow as a reviewer sees it, and what recording a review would change."""
        now = now or utcnow()
        wf = queries.get_workflow(name)
        category = wf.category.name
        defn = _definition(wf)
        by_mode: dict[tuple[str, str], int] = {
            (mode, status): n
            for mode, status, n in Run.select(Run.mode, Run.status, fn.COUNT(Run.id))
            .where(
                Run.workflow == wf.id,
                Run.reviewed_at.is_null(),
                Run.status.in_(list(FINISHED)),
            )
            .group_by(Run.mode, Run.status)
            .tuples()
        }

        def total(status: str) -> int:
            return sum(n for (_, s), n in by_mode.items() if s == status)

        month_runs, month_failed, month_records, month_cost = (
            Run.select(
                fn.COUNT(Run.id),
                fn.SUM(Case(None, [(Run.status == RunStatus.FAILED.value, 1)], 0)),
                fn.SUM(Run.affected_records),
                fn.SUM(Run.cost),
            )
            .where(
                Run.workflow == wf.id,
                Run.status.in_(list(FINISHED)),
                Run.finished_at >= now - _dt.timedelta(days=MONTH_DAYS),
            )
            .tuples()
            .get()
        )
        last = Review.select().where(Review.workflow == wf.id).order_by(Review.id.desc()).first()
        stage = Stage(wf.stage)
        target = NEXT_STAGE.get(stage)
        now_text = after_text = None
        if target is not None:
            reviewed = {
                mode: queries.count_reviewed_successful_runs(wf.id, mode.value)
                for mode in (RunMode.DRY_RUN, RunMode.STAGING)
            }
            missing = policy.missing_checklist_items(defn)

            def refusal(extra: bool) -> str | None:
                def count(mode: RunMode) -> int:
                    added = by_mode.get((mode.value, RunStatus.SUCCEEDED.value), 0)
                    return reviewed[mode] + (added if extra else 0)

                return policy.graduation_refusal(
                    stage,
                    target,
                    reviewed_successful_dry_runs=count(RunMode.DRY_RUN),
                    reviewed_successful_staging_runs=count(RunMode.STAGING),
                    required_staging_runs=defn.graduation.staging_runs,
                    missing_checklist=missing,
                )

            now_text, after_text = refusal(False), refusal(True)
        return ReviewSummary(
            workflow=wf.name,
            category=category,
            owner=wf.owner,
            stage=wf.stage,
            last_reviewed_at=wf.last_reviewed_at,
            last_reviewer=last.reviewer if last else None,
            unreviewed_succeeded=total(RunStatus.SUCCEEDED.value),
            unreviewed_failed=total(RunStatus.FAILED.value),
            unreviewed_rejected=total(RunStatus.REJECTED.value),
            due=tuple(_sorted_due(_due_rows(wf, category, now))),
            next_stage=target.value if target else None,
            promotion_now=now_text,
            promotion_after=after_text,
            month_runs=month_runs or 0,
            month_failed=int(month_failed or 0),
            month_records=int(month_records or 0),
            month_cost=float(month_cost or 0.0),
        )


def _sorted_due(rows: list[ReviewDueRow]) -> list[ReviewDueRow]:
    return sorted(rows, key=lambda r: (not r.overdue, r.due_since, r.workflow))


def _first_chart_day(today: _dt.date) -> _dt.date:
    return today - _dt.timedelta(days=CHART_DAYS - 1)


def _finished_runs(
    now: _dt.datetime,
) -> tuple[dict[int, dict[str, int]], dict[tuple[_dt.date, str], int]]:
    """One GROUP BY over the runs that finished since the chart's first day:
    ({category id: {status: runs in the last 24 h}}, {(day, status): runs})."""
    start = _dt.datetime.combine(_first_chart_day(now.date()), _dt.time())
    since = now - _dt.timedelta(hours=24)
    day = fn.DATE(Run.finished_at)
    recent = fn.SUM(Case(None, [(Run.finished_at >= since, 1)], 0))
    last_24h: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    per_day: dict[tuple[_dt.date, str], int] = defaultdict(int)
    for cat_id, value, status, n, n_recent in (
        Run.select(Workflow.category, day, Run.status, fn.COUNT(Run.id), recent)
        .join(Workflow)
        # No status filter in SQL: SQLite would walk the status index row by row,
        # ~5x slower than the plain scan; the few grouped rows are filtered below.
        .where(Run.finished_at >= start)
        .group_by(Workflow.category, day, Run.status)
        .tuples()
    ):
        if status not in FINISHED:
            continue
        per_day[(_as_date(value), status)] += n
        if n_recent:
            last_24h[cat_id][status] += int(n_recent)
    return last_24h, per_day


def _chart_days(today: _dt.date, per_day: dict[tuple[_dt.date, str], int]) -> list[DayCount]:
    first = _first_chart_day(today)
    days = [first + _dt.timedelta(days=i) for i in range(CHART_DAYS)]
    ok, failed = RunStatus.SUCCEEDED.value, RunStatus.FAILED.value
    return [DayCount(d, per_day.get((d, ok), 0), per_day.get((d, failed), 0)) for d in days]
