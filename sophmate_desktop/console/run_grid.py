"""The runs over time at one look: each workflow's recent runs, newest last, with
their status (Airflow's grid view) and a failure's error in words (n8n's executions
list). One indexed query per workflow (run (workflow, id)), so a million runs cost
what thirty do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sophmate_desktop.store.models import Category, Run, Workflow

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

GRID_RUNS = 30  # runs per workflow


@dataclass(frozen=True)
class GridCell:
    run_id: int
    status: str
    mode: str
    at: datetime  # started, else queued
    error: str | None


@dataclass(frozen=True)
class GridRow:
    workflow: str
    category: str
    cells: tuple[GridCell, ...]  # oldest first

    @property
    def last_failure(self) -> GridCell | None:
        return next((c for c in reversed(self.cells) if c.status == "failed"), None)


class RunGridOps:
    def run_grid(self: Console, per_workflow: int = GRID_RUNS) -> list[GridRow]:
        """Every workflow (by name) with its last `per_workflow` runs."""
        workflows = (
            Workflow.select(Workflow.id, Workflow.name, Category.name.alias("cat"))
            .join(Category)
            .order_by(Workflow.name)
            .tuples()
        )
        rows = []
        for wf_id, name, category in workflows:
            runs = (
                Run.select(Run.id, Run.status, Run.mode, Run.started_at, Run.queued_at, Run.error)
                .where(Run.workflow == wf_id)
                .order_by(Run.id.desc())
                .limit(per_workflow)
                .tuples()
            )
            cells = tuple(
                GridCell(run_id, status, mode, started or queued, error)
                for run_id, status, mode, started, queued, error in reversed(list(runs))
            )
            rows.append(GridRow(name, category, cells))
        return rows
