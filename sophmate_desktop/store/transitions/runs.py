"""Runs held by a pause and the person's decision about them: replay or discard."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from peewee import Database

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import RunStatus
from sophmate_desktop.store.audit import NewEvent
from sophmate_desktop.store.models import Run
from sophmate_desktop.store.transitions import gate


def hold_queued_runs(db: Database, workflows: Any) -> list[int]:
    """Queued runs of `workflows` (a query of workflow ids) become held: a pause keeps
    them, never drops them (DESIGN 5.1). The pause's own event counts them."""
    ids = [
        r
        for (r,) in Run.select(Run.id)
        .where(Run.status == RunStatus.QUEUED.value, Run.workflow.in_(workflows))
        .tuples()
    ]
    return gate.move_runs(db, ids, RunStatus.QUEUED, RunStatus.HELD)


def hold_running_run(db: Database, run_id: int, event: NewEvent) -> bool:
    """A running run goes back to the queue and is held there (running -> queued ->
    held), as if it had arrived while its workflow was paused: replayed on resume."""
    if not gate.move_run(db, run_id, RunStatus.RUNNING, RunStatus.QUEUED, claimed_by=None):
        return False
    return gate.move_run(db, run_id, RunStatus.QUEUED, RunStatus.HELD, events=event)


def decide_held(
    db: Database,
    ids: Sequence[int],
    replay: bool,
    event_for: Callable[[list[int]], NewEvent],
) -> list[int]:
    """Held runs replayed (queued again) or discarded (cancelled); `event_for(moved)`
    records the decision once for all of them. Returns the ids moved."""
    now = utcnow()
    if replay:
        fields: dict = {"queued_at": now}
        new = RunStatus.QUEUED
    else:
        fields = {"finished_at": now, "error": "discarded after a pause"}
        new = RunStatus.CANCELLED
    return gate.move_runs(
        db, ids, RunStatus.HELD, new, events=lambda moved: [event_for(moved)], **fields
    )
