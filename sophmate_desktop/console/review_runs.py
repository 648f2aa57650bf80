"""The runs a review covers: the finished, unreviewed ones, and those the reviewer ticked.

Promotion counts reviewed *successful* runs, so a review marks only what the reviewer
ticked; without a choice it marks the successful runs, never silently a failed one.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass

from sophmate_desktop.domain.enums import RunStatus
from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.store.models import Run

FINISHED = (RunStatus.SUCCEEDED.value, RunStatus.FAILED.value, RunStatus.REJECTED.value)


@dataclass(frozen=True)
class ReviewRunRow:
    """A finished run a review can cover: the dialog lists them with a tick box."""

    id: int
    status: str
    mode: str
    finished_at: _dt.datetime | None

    @property
    def succeeded(self) -> bool:
        return self.status == RunStatus.SUCCEEDED.value


def unreviewed_runs(workflow_id: int) -> list[ReviewRunRow]:
    """The workflow's finished runs not reviewed yet, oldest first."""
    query = (
        Run.select(Run.id, Run.status, Run.mode, Run.finished_at)
        .where(
            Run.workflow == workflow_id,
            Run.reviewed_at.is_null(),
            Run.status.in_(list(FINISHED)),
        )
        .order_by(Run.id)
        .tuples()
    )
    return [ReviewRunRow(*row) for row in query]


def chosen_runs(
    workflow: str, candidates: list[ReviewRunRow], run_ids: Iterable[int] | None
) -> list[int]:
    """The run ids a review marks: `run_ids` (each a finished, unreviewed run of the
    workflow) or, when None, the successful candidates."""
    if run_ids is None:
        return [r.id for r in candidates if r.succeeded]
    known = {r.id for r in candidates}
    out: list[int] = []
    for raw in run_ids:
        try:
            run_id = int(raw)
        except (TypeError, ValueError):
            raise BadInput(f"--runs: {raw!r} is not a run id")
        if run_id not in known:
            raise BadInput(f"--runs: run {run_id} is not a finished, unreviewed run of {workflow}")
        out.append(run_id)
    return list(dict.fromkeys(out))
