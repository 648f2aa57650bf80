"""The calls a run's prompt steps made, recorded on the run (issue 17): each row
with its audit event in the caller's transaction, and their cost added to the run's
(the category's budget counts it, dry runs included: a dry run that asks a provider
pays for it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from peewee import Database, fn

from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.store import audit
from sophmate_desktop.store.models import PromptCall, Run
from sophmate_desktop.store.rows import PromptCallRow
from sophmate_desktop.store.transitions.events import run_event

_FIELDS = tuple(f for f in PromptCall._meta.sorted_field_names if f not in ("id", "run_id", "seq"))


def insert_prompt_calls(
    db: Database, run_id: int, workflow: str, category: str, calls: Sequence[Mapping[str, Any]]
) -> float:
    """Inside a write transaction: record `calls` after the run's earlier ones, one
    audit event each; returns their cost."""
    if not calls:
        return 0.0
    last = PromptCall.select(fn.MAX(PromptCall.seq)).where(PromptCall.run_id == run_id).scalar()
    first = (last or 0) + 1
    rows = [
        {"run_id": run_id, "seq": first + i, **{k: c[k] for k in _FIELDS if k in c}}
        for i, c in enumerate(calls)
    ]
    for start in range(0, len(rows), 500):
        PromptCall.insert_many(rows[start : start + 500]).execute()
    audit.append_many(db, [_event(run_id, workflow, category, row) for row in rows])
    return float(sum(row.get("cost") or 0.0 for row in rows))


def _event(run_id: int, workflow: str, category: str, row: Mapping[str, Any]) -> audit.NewEvent:
    details = {
        k: row.get(k)
        for k in (
            "seq",
            "step",
            "record_number",
            "connection",
            "model",
            "status",
            "tokens_in",
            "tokens_out",
            "cost",
            "latency_ms",
            "request_id",
        )
        if row.get(k) is not None
    }
    return run_event(
        AuditAction.PROMPT_CALLED,
        run_id,
        workflow=workflow,
        category=category,
        reason=row.get("error"),
        details=details,
    )


def prompt_cost(run_id: int) -> float:
    """What the run's recorded calls cost, every attempt included."""
    total = (
        PromptCall.select(fn.COALESCE(fn.SUM(PromptCall.cost), 0.0))
        .where(PromptCall.run_id == run_id)
        .scalar()
    )
    return float(total or 0.0)


def add_prompt_cost(run_id: int, cost: float) -> None:
    """Calls of a run that did not reach its plan (it failed, stopped or was held)."""
    if cost:
        Run.update(cost=Run.cost + cost).where(Run.id == run_id).execute()


def prompt_call_rows(run_id: int, limit: int = 10_000) -> list[PromptCallRow]:
    """The run's calls in the order they were made (every attempt)."""
    names = [f for f in PromptCall._meta.sorted_field_names if f != "id"]
    query = (
        PromptCall.select(*[getattr(PromptCall, n) for n in names])
        .where(PromptCall.run_id == run_id)
        .order_by(PromptCall.seq)
        .limit(limit)
        .dicts()
    )
    return [PromptCallRow(**row) for row in query]
