"""Console calls for the workflows page and editor.

The page's table is one page of workflows at a time, sorted and filtered in SQL,
with the health of their last runs (one windowed query per page), escalation flags
and the review that is due (the rules of domain.policy, applied to that page only).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from peewee import Case, fn

from sophmate_desktop.console.workflow_rules import escalation_flags, reviews_owed
from sophmate_desktop.console.workflows import definition_of
from sophmate_desktop.domain import policy
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import RunStatus, Stage
from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.events import Event
from sophmate_desktop.domain.roles import Role
from sophmate_desktop.domain.workflow import WorkflowDefinition
from sophmate_desktop.store import queries
from sophmate_desktop.store.models import Category, Run, Workflow
from sophmate_desktop.store.rows import PromptCallRow, RunRow, WorkflowRow, WriteRow
from sophmate_desktop.store.transitions.prompt_calls import prompt_call_rows

if TYPE_CHECKING:
    from sophmate_desktop.console import Console
    from sophmate_desktop.engine.service import Engine

RECENT_RUNS = 10  # the health column summarises this many finished runs
HEALTH_CHUNK = 100  # workflows per statement (SQLite allows 500 compound members)
FINISHED = (
    RunStatus.SUCCEEDED.value,
    RunStatus.FAILED.value,
    RunStatus.REJECTED.value,
    RunStatus.CANCELLED.value,
)
STAGE_ORDER = (Stage.DRY_RUN, Stage.STAGING, Stage.PRODUCTION)
WORKFLOW_SORT_KEYS = ("name", "category", "stage", "enabled", "paused", "owner", "health", "review")


@dataclass(frozen=True, kw_only=True)
class WorkflowOverview(WorkflowRow):
    """One row of the workflows table: the workflow's row, and what the table adds."""

    category_paused: bool
    recent_succeeded: int
    recent_failed: int
    recent_other: int  # rejected or cancelled
    last_status: str | None
    escalations: tuple[tuple[str, str], ...]  # (code, reason) from policy.escalation_flags
    review_due: str  # "" when no review is due, else e.g. "monthly" or "first run"
    review_overdue: bool
    review_reasons: tuple[str, ...]

    @property
    def next_stage(self) -> Stage | None:
        return next_stage(self.stage)


@dataclass(frozen=True)
class DryRunResult:
    run: RunRow
    writes: tuple[WriteRow, ...]
    prompts: tuple[PromptCallRow, ...] = ()  # what its prompt steps sent, or would send


def next_stage(stage: str | Stage) -> Stage | None:
    """The stage a promotion goes to, or None from production."""
    index = STAGE_ORDER.index(Stage(stage))
    return STAGE_ORDER[index + 1] if index + 1 < len(STAGE_ORDER) else None


def _order(sort_key: str | None, descending: bool) -> list:
    if sort_key is not None and sort_key not in WORKFLOW_SORT_KEYS:
        raise BadInput(f"sort: unknown key {sort_key!r} (use {', '.join(WORKFLOW_SORT_KEYS)})")
    if sort_key == "category":
        keys = [Category.name]
    elif sort_key == "stage":
        stage_rank = [(s.value, i) for i, s in enumerate(STAGE_ORDER)]
        keys = [Case(Workflow.stage, stage_rank, len(STAGE_ORDER))]
    elif sort_key == "enabled":
        keys = [Workflow.enabled]
    elif sort_key == "paused":
        keys = [Workflow.paused, Category.paused]
    elif sort_key == "owner":
        keys = [fn.COALESCE(Workflow.owner, "")]
    elif sort_key == "health":
        keys = [Workflow.consecutive_failures, Workflow.last_failure_at]
    elif sort_key == "review":
        # Most urgent first when ascending: an unreviewed first run, then a failure
        # not reviewed since, then the oldest last review (the monthly cadence).
        failed_since = Workflow.last_failure_at.is_null(False) & (
            Workflow.last_reviewed_at.is_null()
            | (Workflow.last_failure_at > Workflow.last_reviewed_at)
        )
        urgency = Case(None, [(Workflow.first_run_reviewed == False, 0), (failed_since, 1)], 2)
        keys = [urgency, fn.COALESCE(Workflow.last_reviewed_at, Workflow.created_at)]
    else:
        keys = []
    keys = [k.desc() if descending else k.asc() for k in keys]
    name = Workflow.name.desc() if descending and sort_key == "name" else Workflow.name
    return [*keys, name]


def _recent_health(ids: list[int]) -> dict[int, dict[str, int | str]]:
    """Per workflow: counts of statuses over its last RECENT_RUNS finished runs.

    One LIMITed SELECT per workflow on its (workflow_id, id) index, joined by UNION
    ALL: each reads RECENT_RUNS rows whatever the history holds (a window over the
    workflows' runs numbered every finished run, a million at a million runs). The
    member's SQL is built once: peewee building 60 members cost ~25 ms a page."""
    out: dict[int, dict[str, int | str]] = {}
    member = (
        Run.select(Run.workflow, Run.status, Run.id)
        .where(Run.workflow == 0, Run.status.in_(FINISHED))
        .order_by(Run.id.desc())
        .limit(RECENT_RUNS)
    )
    member_sql, member_params = member.sql()  # the workflow id is the first parameter
    db = Run._meta.database
    for start in range(0, len(ids), HEALTH_CHUNK):
        chunk = ids[start : start + HEALTH_CHUNK]
        sql = " UNION ALL ".join(f"SELECT * FROM ({member_sql}) AS h{i}" for i in range(len(chunk)))
        params = [value for wf_id in chunk for value in (wf_id, *member_params[1:])]
        newest: dict[int, int] = {}
        for wf_id, status, run_id in db.execute_sql(sql, params).fetchall():
            entry = out.setdefault(wf_id, {})
            entry[status] = int(entry.get(status, 0)) + 1
            if run_id > newest.get(wf_id, 0):
                newest[wf_id], entry["last"] = run_id, status
    return out


def _definition(wf: Workflow) -> WorkflowDefinition | None:
    try:
        return definition_of(wf)
    except BadInput:  # a stored definition is validated on save; never fail the table
        return None


def _review(wf: Workflow, now: _dt.datetime) -> tuple[str, bool, tuple[str, ...]]:
    due = reviews_owed(wf, now)
    if not due:
        return "", False, ()
    first = due[0]
    return (
        first.kind.value.replace("_", " "),
        any(d.overdue for d in due),
        tuple(d.reason for d in due),
    )


def _overview(
    wf: Workflow, category: Category, health: dict, now: _dt.datetime
) -> WorkflowOverview:
    defn = _definition(wf)
    flags = escalation_flags(wf, defn)
    missing = policy.missing_checklist_items(defn) if defn else list(policy.CHECKLIST_ITEMS)
    review_due, overdue, reasons = _review(wf, now)
    succeeded = int(health.get(RunStatus.SUCCEEDED.value, 0))
    failed = int(health.get(RunStatus.FAILED.value, 0))
    total = sum(v for k, v in health.items() if k != "last")
    row = queries.workflow_row(wf, category.name, missing)
    return WorkflowOverview(
        **{f.name: getattr(row, f.name) for f in fields(WorkflowRow)},
        category_paused=category.paused,
        recent_succeeded=succeeded,
        recent_failed=failed,
        recent_other=int(total) - succeeded - failed,
        last_status=health.get("last"),  # type: ignore[arg-type]
        escalations=tuple((f.code, f.reason) for f in flags),
        review_due=review_due,
        review_overdue=overdue,
        review_reasons=reasons,
    )


class WorkflowPageOps:
    def workflow_overview_page(
        self: Console,
        offset: int = 0,
        limit: int = 200,
        sort_key: str | None = None,
        descending: bool = False,
        *,
        search: str | None = None,
        category: str | None = None,
    ) -> list[WorkflowOverview]:
        """One page of the workflows table; sorting and filtering in SQL."""
        query = Workflow.select(Workflow, Category).join(Category)
        if category:
            query = query.where(Category.name == category)
        if search and search.strip():
            text = search.strip()
            query = query.where(
                Workflow.name.contains(text)
                | Category.name.contains(text)
                | Workflow.owner.contains(text)
            )
        query = query.order_by(*_order(sort_key, descending)).limit(limit).offset(offset)
        models = list(query)
        health = _recent_health([wf.id for wf in models])
        now = utcnow()
        return [_overview(wf, wf.category, health.get(wf.id, {}), now) for wf in models]

    def workflow_overview(self: Console, name: str) -> WorkflowOverview:
        wf = queries.get_workflow(name)
        health = _recent_health([wf.id])
        return _overview(wf, wf.category, health.get(wf.id, {}), utcnow())

    def last_run_id(self: Console, name: str) -> int | None:
        """The id of the workflow's newest run (any status), or None before its first."""
        wf = queries.get_workflow(name)
        last = Run.select(Run.id).where(Run.workflow == wf.id).order_by(Run.id.desc()).first()
        return last.id if last is not None else None

    def dry_run_file(
        self: Console,
        name: str,
        path: str | Path,
        *,
        engine: Engine | None = None,
        timeout: float = 120.0,
        listen: Callable[[Event], None] | None = None,
    ) -> DryRunResult:
        """Run `name` on `path` in dry_run mode (plan only) and wait for the outcome.

        With no running engine a temporary one (no watchers) is started and stopped
        again, as `workflow run --dry-run` does; `listen` hears its events.
        """
        from sophmate_desktop.engine.service import Engine

        queries.get_workflow(name)
        self.require_role(Role.OPERATOR, "running workflows")
        own = engine is None
        unsubscribe: list[Callable[[], None]] = []
        if engine is None:
            engine = Engine(self.db, secrets=self.secrets, watch=False, workers=1)
            unsubscribe.append(self.events.subscribe(engine.wake))
            if listen is not None:
                unsubscribe.append(engine.events.subscribe(listen))
            engine.start()
        try:
            run_id = engine.run_now(name, Path(path), actor=self.actor, mode="dry_run")
            engine.wait_for_run(run_id, timeout)
            if own:
                engine.wait_idle(timeout)
        finally:
            if own:
                engine.stop()
                for stop in unsubscribe:
                    stop()
        return DryRunResult(
            self.get_run(run_id), tuple(self.run_writes(run_id)), tuple(prompt_call_rows(run_id))
        )
