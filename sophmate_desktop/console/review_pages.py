"""Console calls for the reviews page: the reviews due, the runs that await a review
before a promotion, and what a reviewer reads before recording a review.

Counts over runs are SQL aggregates; the review rules live in domain/policy
(applied to a stored workflow in console/workflow_rules.py).
"""

from __future__ import annotations

import datetime as _dt
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from peewee import Case, fn

from sophmate_desktop.console.dashboard import FINISHED
from sophmate_desktop.console.review_runs import ReviewRunRow, unreviewed_runs
from sophmate_desktop.console.workflow_pages import next_stage
from sophmate_desktop.console.workflow_rules import ReviewDueRow, due_rows, sorted_due
from sophmate_desktop.console.workflows import definition_of
from sophmate_desktop.domain import policy
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import RunMode, RunStatus, Stage
from sophmate_desktop.store import queries
from sophmate_desktop.store.models import Review, Run, Workflow

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

MONTH_DAYS = 30  # the review dialog's "last 30 days" figures


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


class ReviewPageOps:
    def review_runs(self: Console, name: str) -> list[ReviewRunRow]:
        """The runs a review of `name` can cover (the successful ones are its default)."""
        return unreviewed_runs(queries.get_workflow(name).id)

    def reviews_due(self: Console, now: _dt.datetime | None = None) -> list[ReviewDueRow]:
        """Due and overdue reviews of every workflow: overdue first, then oldest first."""
        now = now or utcnow()
        rows: list[ReviewDueRow] = []
        for wf, cat_name in queries.list_workflow_models():
            rows += due_rows(wf, cat_name, now)
        return sorted_due(rows)

    def runs_awaiting_review(self: Console) -> list[UnreviewedRunsRow]:
        """Workflows before production whose finished runs in their stage await a review
        (reviewed successful runs are what promotion counts)."""
        stage_of = {
            wf_id: stage
            for wf_id, stage in Workflow.select(Workflow.id, Workflow.stage)
            .where(Workflow.stage != Stage.PRODUCTION.value)
            .tuples()
        }
        if not stage_of:
            return []
        # Runs alone, on the partial index of unreviewed runs: its size is the runs
        # waiting for a review (a review marks them), not the history. Run.mode ==
        # Workflow.stage in SQL would join and let the planner walk every run.
        unreviewed: dict[int, dict[str, int]] = defaultdict(dict)
        for wf_id, mode, status, n in (
            Run.select(Run.workflow, Run.mode, Run.status, fn.COUNT(Run.id))
            .where(Run.workflow.in_(list(stage_of)), Run.reviewed_at.is_null())
            .group_by(Run.workflow, Run.mode, Run.status)
            .tuples()
        ):
            if mode == stage_of[wf_id] and status in FINISHED:
                unreviewed[wf_id][status] = n
        if not unreviewed:
            return []
        # One count per workflow on (workflow_id, mode) of the reviewed-successful
        # partial index; IN over the workflows lets the planner take the status index.
        reviewed_ok = {
            wf_id: queries.count_reviewed_successful_runs(wf_id, stage_of[wf_id])
            for wf_id in unreviewed
        }
        rows = []
        for wf in (
            Workflow.select().where(Workflow.id.in_(list(unreviewed))).order_by(Workflow.name)
        ):
            counts = unreviewed[wf.id]
            required = 1 if wf.stage == Stage.DRY_RUN else definition_of(wf).graduation.staging_runs
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
        defn = definition_of(wf)
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
        target = next_stage(stage)
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
            due=tuple(sorted_due(due_rows(wf, category, now))),
            next_stage=target.value if target else None,
            promotion_now=now_text,
            promotion_after=after_text,
            month_runs=month_runs or 0,
            month_failed=int(month_failed or 0),
            month_records=int(month_records or 0),
            month_cost=float(month_cost or 0.0),
        )
