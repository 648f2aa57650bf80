"""Previews of HTTP and e-mail writes that cannot go stale: the plan records when the
write's connection last changed (and the write's place in the run's plan); the apply
compares it with the settings it sends with, read in the same query, so a write is
never sent with settings its approver did not see. A stale one is planned again by
re-running the run's steps and taking the write at the same place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sophmate_desktop.engine.actions import plan_step
from sophmate_desktop.engine.actions.base import ActionError, PlanContext, PlannedWrite, Stale


class ConnectionStale(Stale):
    """The write's connection changed since its preview."""


def record_connection_state(
    planned: Sequence[PlannedWrite], changed: Mapping[str, Any], start: int = 0
) -> None:
    """Inside the plan: note each connection write's connection version and place
    (`start`: the place of the first of `planned`, for a plan made in batches)."""
    for position, pw in enumerate(planned, start=start):
        conn = pw.payload.get("connection")
        if conn and changed.get(conn):
            expect = pw.payload.setdefault("expect", {})
            expect.update(connection_changed_at=changed[conn], position=position)


def check_connection(payload: Mapping[str, Any], changed: Mapping[str, Any]) -> None:
    """Raise Stale if the write's connection changed since its preview."""
    expected = payload.get("expect", {}).get("connection_changed_at")
    conn = payload.get("connection")
    if expected is not None and changed.get(conn) != expected:
        raise ConnectionStale(f"the connection {conn} changed since this preview")


def replan_from_steps(
    payload: Mapping[str, Any], kind: str, ctx: PlanContext, changed: Mapping[str, Any]
) -> PlannedWrite:
    """The write at the same place of the run's plan, planned again with `ctx` (the
    connections as they are now)."""
    planned: list[PlannedWrite] = []
    for index, step in enumerate(ctx.workflow.steps):
        planned.extend(plan_step(step, ctx, index))
    record_connection_state(planned, changed)
    position = payload["expect"]["position"]
    if position >= len(planned) or planned[position].kind != kind:
        raise ActionError("the run's plan changed: the write has no counterpart now")
    if planned[position].ai_drafted:  # its text would be a placeholder, not an answer
        raise ActionError(
            "an AI-drafted write is not planned again without asking the provider: "
            "run the workflow again for a new draft"
        )
    return planned[position]
