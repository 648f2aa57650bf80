"""Console calls for the dashboard's figures (the reviews page's own calls are in
console/review_pages.py).

Counts over runs and writes are SQL aggregates (GROUP BY); Python only loops over
workflows and categories (a few dozen rows), whose rules live in domain/policy
(applied to a stored workflow in console/workflow_rules.py).
"""

from __future__ import annotations

import datetime as _dt
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from peewee import Case, fn

from sophmate_desktop.console.workflow_rules import (
    Escalation,
    ReviewDueRow,
    due_rows,
    escalation,
    sorted_due,
)
from sophmate_desktop.console.workflows import definition_of
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import RunStatus, WriteStatus
from sophmate_desktop.store import queries
from sophmate_desktop.store.models import Category, Run, Switch, Write

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

CHART_DAYS = 14
FINISHED = (RunStatus.SUCCEEDED.value, RunStatus.FAILED.value, RunStatus.REJECTED.value)


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


class DashboardOps:
    def dashboard(self: Console, now: _dt.datetime | None = None) -> DashboardData:
        """Everything the dashboard shows, read in one go."""
        now = now or utcnow()
        writes: dict[str, dict[str, int]] = defaultdict(dict)
        # One status at a time: `status = x` is what the waiting writes' partial
        # indexes answer (an IN list is not; with statistics it scans the category index).
        for status in queries.INBOX_STATUSES:
            for cat, n in (
                Write.select(Write.category, fn.COUNT(Write.id))
                .where(Write.status == status)
                .group_by(Write.category)
                .tuples()
            ):
                writes[cat][status] = n
        pending = sum(v.get(WriteStatus.PENDING.value, 0) for v in writes.values())
        interrupted = sum(v.get(WriteStatus.INTERRUPTED.value, 0) for v in writes.values())

        workflows = queries.list_workflow_models()
        category_of = {wf.id: wf.category_id for wf, _name in workflows}
        finished, per_day = _finished_runs(now, category_of)
        held: dict[int, int] = defaultdict(int)
        for wf_id, n in queries.held_by_workflow().items():
            held[category_of.get(wf_id, 0)] += n

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
        for wf, cat_name in workflows:
            due = due_rows(wf, cat_name, now)
            reviews += due
            esc = escalation(wf, definition_of(wf), cat_name, due)
            if esc is not None:
                escalations.append(esc)
            if wf.paused:
                paused_workflows[cat_name] += 1
                # a workflow's own kill switch is a switch too: the tile counts it
                paused_names += (wf.name,)

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
            reviews=tuple(sorted_due(reviews)),
            categories=tuple(health),
            runs_per_day=tuple(_chart_days(now.date(), per_day)),
            at=now,
        )

    def runs_per_day(self: Console, now: _dt.datetime | None = None) -> list[DayCount]:
        """Succeeded and failed runs per UTC day (by finish time), the last CHART_DAYS days."""
        now = now or utcnow()
        category_of = {wf.id: wf.category_id for wf, _name in queries.list_workflow_models()}
        return _chart_days(now.date(), _finished_runs(now, category_of)[1])

    def escalations(self: Console, now: _dt.datetime | None = None) -> list[Escalation]:
        """Escalated workflows with their reasons (production data, customer-facing
        output, repeated failures, no owner, a pause, an overdue review), by name."""
        now = now or utcnow()
        rows = []
        for wf, cat_name in queries.list_workflow_models():
            esc = escalation(wf, definition_of(wf), cat_name, due_rows(wf, cat_name, now))
            if esc is not None:
                rows.append(esc)
        return rows


def _first_chart_day(today: _dt.date) -> _dt.date:
    return today - _dt.timedelta(days=CHART_DAYS - 1)


def _finished_runs(
    now: _dt.datetime, category_of: dict[int, int]
) -> tuple[dict[int, dict[str, int]], dict[tuple[_dt.date, str], int]]:
    """One GROUP BY over the runs that finished since the chart's first day:
    ({category id: {status: runs in the last 24 h}}, {(day, status): runs}).

    Runs alone, on the covering (finished_at, status, workflow_id) index: a join to
    workflow lets the planner start from the workflows and walk every run of each
    (seconds at a million runs once ANALYZE statistics exist); the workflows'
    categories (`category_of`, a few dozen) are mapped here."""
    start = _dt.datetime.combine(_first_chart_day(now.date()), _dt.time())
    since = now - _dt.timedelta(hours=24)
    day = fn.DATE(Run.finished_at)
    recent = fn.SUM(Case(None, [(Run.finished_at >= since, 1)], 0))
    last_24h: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    per_day: dict[tuple[_dt.date, str], int] = defaultdict(int)
    # Grouped day first: grouped by workflow first, the planner prefers walking the
    # whole (workflow_id, finished_at) index to skip the sort.
    for value, status, wf_id, n, n_recent in (
        Run.select(day, Run.status, Run.workflow, fn.COUNT(Run.id), recent)
        .where(Run.finished_at >= start)
        .group_by(day, Run.status, Run.workflow)
        .tuples()
    ):
        if status not in FINISHED:
            continue
        per_day[(_as_date(value), status)] += n
        if n_recent:
            last_24h[category_of.get(wf_id, 0)][status] += int(n_recent)
    return last_24h, per_day


def _chart_days(today: _dt.date, per_day: dict[tuple[_dt.date, str], int]) -> list[DayCount]:
    first = _first_chart_day(today)
    days = [first + _dt.timedelta(days=i) for i in range(CHART_DAYS)]
    ok, failed = RunStatus.SUCCEEDED.value, RunStatus.FAILED.value
    return [DayCount(d, per_day.get((d, ok), 0), per_day.get((d, failed), 0)) for d in days]
