"""What the engine and the console read about workflows, switches and connections:
workflows with their parsed definitions (cached per revision), the little a new run is
decided on, the paused switches, a write's effects. Read on every run's path, so read
with as little work as possible."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from peewee import Database

from sophmate_desktop.domain import policy
from sophmate_desktop.domain.enums import EffectKind, SwitchScope
from sophmate_desktop.store import sql
from sophmate_desktop.store.models import Category, Connection, Switch, Workflow

if TYPE_CHECKING:
    from sophmate_desktop.domain.workflow import WorkflowDefinition

# The workflow-file parser (yaml, jinja2: ~60 ms) is imported where a definition is
# parsed, so that a command that only reads switches (a pause) never pays for it.

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedWorkflow:
    id: int
    name: str
    category: str
    stage: str
    revision: int
    enabled: bool
    paused: bool
    paused_reason: str | None
    definition: WorkflowDefinition
    plugin_versions: dict
    gate_tightened_at: object
    consecutive_failures: int


# (workflow id, revision) -> (stored document, parsed definition). A revision's
# document does not change, but the stored one is compared anyway: cheap next to parsing.
_definitions: dict[tuple[int, int], tuple[dict, WorkflowDefinition]] = {}


def _definition(wf: Workflow) -> WorkflowDefinition:
    key = (wf.id, wf.revision)
    cached = _definitions.get(key)
    if cached is not None and cached[0] == wf.definition:
        return cached[1]
    from sophmate_desktop.domain.workflow_file import definition_from_dict

    parsed = definition_from_dict(wf.definition)
    if len(_definitions) > 1000:
        _definitions.clear()
    _definitions[key] = (wf.definition, parsed)
    return parsed


def load_workflow(wf: Workflow, category: str | None = None) -> LoadedWorkflow:
    return LoadedWorkflow(
        id=wf.id,
        name=wf.name,
        category=category or wf.category.name,
        stage=wf.stage,
        revision=wf.revision,
        enabled=wf.enabled,
        paused=wf.paused,
        paused_reason=wf.paused_reason,
        definition=_definition(wf),
        plugin_versions=dict(wf.plugin_versions or {}),
        gate_tightened_at=wf.gate_tightened_at,
        consecutive_failures=wf.consecutive_failures,
    )


def load_workflow_by_id(workflow_id: int) -> LoadedWorkflow:
    """One query: the workflow with its category's name."""
    wf = (
        Workflow.select(Workflow, Category.name.alias("cat"))
        .join(Category)
        .where(Workflow.id == workflow_id)
        .objects()
        .get()
    )
    return load_workflow(wf, wf.cat)


def load_workflows_by_id(db: Database, workflow_ids: Iterable[int]) -> dict[int, LoadedWorkflow]:
    """The workflows by id, one query; each definition parsed once per revision."""
    ids = list(workflow_ids)
    if not ids:
        return {}
    query = (
        Workflow.select(Workflow, Category.name.alias("cat"))
        .join(Category)
        .where(Workflow.id.in_(sql.id_list(db, ids)))
        .objects()
    )
    return {wf.id: load_workflow(wf, wf.cat) for wf in query}


def load_workflows(enabled_only: bool = False) -> list[LoadedWorkflow]:
    from sophmate_desktop.domain.workflow_fields import WorkflowFileError

    query = Workflow.select(Workflow, Category.name.alias("cat")).join(Category)
    if enabled_only:
        query = query.where(Workflow.enabled == True)
    loaded = []
    for wf in query.objects():
        try:
            loaded.append(load_workflow(wf, wf.cat))
        except WorkflowFileError as exc:
            # stored before a rule it breaks existed (e.g. a shell script with a bare
            # template): left out of the watches; its runs fail naming the rule
            log.error("workflow %s no longer passes validation, not watched: %s", wf.name, exc)
    return loaded


def switch_states(db: Database) -> list[policy.SwitchState]:
    """The paused switches and categories (one query: it is on every run's path)."""
    at = Switch.paused_at.python_value
    return [
        policy.SwitchState(
            SwitchScope(scope) if scope else SwitchScope.CATEGORY, name, True, by, why, at(when)
        )
        for scope, name, by, why, when in sql.paused_switches(db)
    ]


def workflow_block(
    wf: LoadedWorkflow | WorkflowState, switches: Sequence[policy.SwitchState]
) -> str | None:
    """Why a new run of `wf` may not start now (None: it may)."""
    sw = policy.blocking_switch(switches, category=wf.category, effects=())
    if sw is not None:
        return policy.switch_refusal_text(sw)
    if wf.paused:
        return f"workflow {wf.name} is paused: {wf.paused_reason or 'no reason given'}"
    return None


@dataclass(frozen=True)
class WorkflowState:
    """What deciding about a new run needs: no definition to parse."""

    id: int
    name: str
    category: str
    revision: int
    stage: str
    paused: bool
    paused_reason: str | None


def workflow_states(db: Database, names: Iterable[str]) -> dict[str, WorkflowState]:
    rows = sql.workflow_state_rows(db, list(names))
    return {row[1]: WorkflowState(*row[:5], bool(row[5]), row[6]) for row in rows}


def effects_of(write) -> list[EffectKind]:
    """The kinds of effect a write has (its own, and customer-facing when it is)."""
    effects = [EffectKind(write.effect)]
    if write.customer_facing:
        effects.append(EffectKind.CUSTOMER_FACING)
    return effects


def connection_settings(names: Iterable[str], mode: str) -> tuple[dict, dict]:
    """(settings by name for this mode, kinds by name). Staging uses staging settings only."""
    settings, kinds, _changed = connection_state(names, mode)
    return settings, kinds


def connection_state(names: Iterable[str], mode: str) -> tuple[dict, dict, dict]:
    """connection_settings and, from the same read, when each connection last changed
    (ISO text by name): a preview records it, an apply compares it."""
    names = [n for n in names if n]
    settings: dict = {}
    kinds: dict = {}
    changed: dict = {}
    if not names:
        return settings, kinds, changed
    for conn in Connection.select().where(Connection.name.in_(names)):
        kinds[conn.name] = conn.kind
        changed[conn.name] = conn.changed_at.isoformat() if conn.changed_at else None
        if mode == "staging":
            chosen = dict(conn.staging_settings) if conn.staging_settings else {}
        else:
            chosen = dict(conn.settings)
        if chosen and conn.secret_ref:
            chosen["secret_ref"] = conn.secret_ref
        settings[conn.name] = chosen
    return settings, kinds, changed
