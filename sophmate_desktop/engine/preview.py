"""Plan-only: the writes a definition would plan for one input file, with no engine
threads, no database writes and nothing applied (the change preview)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sophmate_desktop.domain.workflow import WorkflowDefinition
from sophmate_desktop.engine.actions import plan_step
from sophmate_desktop.engine.actions.base import (
    ActionError,
    PlanContext,
    PlannedWrite,
    TriggerFile,
)
from sophmate_desktop.engine.actions.paths import file_sha256_or_none
from sophmate_desktop.engine.inputs import InputError, read_input
from sophmate_desktop.store.workflows import connection_settings

__all__ = ["PreviewFailed", "PreviewInput", "file_sha256_or_none", "plan_preview"]


class PreviewFailed(Exception):
    """The definition cannot plan this input (the message says why, as a run would)."""


@dataclass(frozen=True)
class PreviewInput:
    """One recorded input to replay: the run it came from and its trigger file."""

    run_id: int
    path: Path
    sha256: str
    mode: str


def _output_paths(defn: WorkflowDefinition, mode: str) -> tuple[Path, ...]:
    out = defn.output
    if out is None:
        return ()
    raw = out.staging_paths if mode == "staging" else out.paths
    return tuple(Path(p).expanduser() for p in raw)


def plan_preview(defn: WorkflowDefinition, item: PreviewInput) -> list[PlannedWrite]:
    """The writes `defn` plans for `item`'s file (read-only; PreviewFailed on a planning
    error). Connection settings are read from the database the caller's thread uses."""
    try:
        return _plan(defn, item)
    except (ActionError, InputError, OSError) as exc:
        raise PreviewFailed(str(exc)) from exc


def _plan(defn: WorkflowDefinition, item: PreviewInput) -> list[PlannedWrite]:
    data, _ = read_input(item.path, defn.input)
    st = item.path.stat()
    trigger = TriggerFile(item.path, st.st_size, st.st_mtime_ns, item.sha256)
    settings, kinds = connection_settings(defn.connections, item.mode)
    ctx = PlanContext(
        workflow=defn,
        run_id=item.run_id,
        mode=item.mode,
        file=trigger,
        input=data,
        output_paths=_output_paths(defn, item.mode),
        connections=settings,
        connection_kinds=kinds,
    )
    planned: list[PlannedWrite] = []
    for index, step in enumerate(defn.steps):
        planned.extend(plan_step(step, ctx, index))
    return planned
