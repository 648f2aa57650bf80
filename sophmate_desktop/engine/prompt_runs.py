"""What planning a run with prompt steps needs of the engine: how its steps reach the
providers (the `ai` switch read before planning, each API key read once per run),
and the ends of a run that did not reach its plan: the calls it made are recorded
with their cost whatever happened, a run that met the paused `ai` switch is held,
and a provider's failure is retried per the workflow's `retry` only where that is
safe (never after a 401), no sooner than the provider's retry-after."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from peewee import Database

from sophmate_desktop.domain import policy
from sophmate_desktop.domain.enums import EffectKind, SwitchScope
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.engine.actions.base import PromptAccess
from sophmate_desktop.engine.actions.llm_client import ProviderError
from sophmate_desktop.store.sql import queued_transaction
from sophmate_desktop.store.transitions.budget import check_budget
from sophmate_desktop.store.transitions.events import run_event
from sophmate_desktop.store.transitions.plans import ClaimedRun
from sophmate_desktop.store.transitions.prompt_calls import add_prompt_cost, insert_prompt_calls
from sophmate_desktop.store.transitions.runs import hold_running_run
from sophmate_desktop.store.workflows import LoadedWorkflow, switch_states


def prompt_access(
    db: Database, run: ClaimedRun, wf: LoadedWorkflow, secret: Callable[[str], str]
) -> PromptAccess | None:
    """None for a workflow without prompt steps."""
    defn = wf.definition
    if not defn.prompts:
        return None
    sw = policy.blocking_switch(switch_states(db), category=wf.category, effects=[EffectKind.AI])
    keys: dict[str, str] = {}

    def api_key(name: str) -> str:
        if name not in keys:
            keys[name] = secret(name)
        return keys[name]

    return PromptAccess(
        live=run.mode != "dry_run" or defn.dry_run_prompts,
        api_key=api_key,
        blocked=policy.switch_refusal_text(sw) if sw is not None else None,
        attempt=run.attempt,
    )


def blocks_by_effect(sw: policy.SwitchState | None) -> bool:
    """A switch stopping a run in flight for its effect (`ai`): the run is held."""
    return sw is not None and SwitchScope(sw.scope) is SwitchScope.EFFECT


def record_calls(db: Database, run_id: int, wf: LoadedWorkflow, calls: Sequence[dict]) -> None:
    """The calls of a run that did not reach its plan, their cost on the run."""
    if not calls:
        return
    with queued_transaction(db):
        cost = insert_prompt_calls(db, run_id, wf.name, wf.category, calls)
        add_prompt_cost(run_id, cost)
        if cost:
            check_budget(db, wf.category, run_id=run_id)


def hold_run(db: Database, run_id: int, wf: LoadedWorkflow | None, reason: str) -> bool:
    """A running run met the paused `ai` switch: held, replayed or discarded later."""
    event = run_event(
        AuditAction.RUN_HELD,
        run_id,
        workflow=wf.name if wf else None,
        category=wf.category if wf else None,
        reason=reason,
    )
    with queued_transaction(db):
        return hold_running_run(db, run_id, event)


def provider_error(exc: BaseException | None) -> ProviderError | None:
    """The provider's own failure behind a step's error (the innermost one)."""
    found = None
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, ProviderError) and (found is None or exc.status or exc.retryable):
            found = exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return found
