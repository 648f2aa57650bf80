"""What the engine reads about workflows and switches: workflows with their parsed
definitions (cached per revision), the little a new run is decided on, the paused
switches. Read on every run's path, so read with as little work as possible."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sophmate_desktop.domain import policy
from sophmate_desktop.domain.enums import SwitchScope
from sophmate_desktop.domain.workflow import WorkflowDefinition
from sophmate_desktop.domain.workflow_file import definition_from_dict
from sophmate_desktop.store.models import Category, Switch, Workflow, database_proxy


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


def load_workflows(enabled_only: bool = False) -> list[LoadedWorkflow]:
    query = Workflow.select(Workflow, Category.name.alias("cat")).join(Category)
    if enabled_only:
        query = query.where(Workflow.enabled == True)
    return [load_workflow(wf, wf.cat) for wf in query.objects()]


_SWITCHES_SQL = (
    'SELECT "scope", "name", "paused_by", "paused_reason", "paused_at" FROM "switch" '
    'WHERE "paused" UNION ALL SELECT NULL, "name", "paused_by", "paused_reason", '
    '"paused_at" FROM "category" WHERE "paused"'
)


def switch_states() -> list[policy.SwitchState]:
    """The paused switches and categories (one query: it is on every run's path)."""
    at = Switch.paused_at.python_value
    return [
        policy.SwitchState(
            SwitchScope(scope) if scope else SwitchScope.CATEGORY, name, True, by, why, at(when)
        )
        for scope, name, by, why, when in database_proxy.obj.execute_sql(_SWITCHES_SQL)
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


def workflow_states(names: Iterable[str]) -> dict[str, WorkflowState]:
    names = list(names)
    db = database_proxy.obj
    sql = (
        'SELECT w."id", w."name", c."name", w."revision", w."stage", w."paused", '
        'w."paused_reason" FROM "workflow" AS w JOIN "category" AS c ON c."id" = '
        f'w."category_id" WHERE w."name" IN ({", ".join([db.param] * len(names))})'
    )
    return {
        row[1]: WorkflowState(*row[:5], bool(row[5]), row[6]) for row in db.execute_sql(sql, names)
    }
