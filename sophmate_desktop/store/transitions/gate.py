"""The one gate every change of a run's, a write's and a workflow's state goes through.

Each function checks the move against the transition tables of `domain/states.py`,
applies it as a conditional update (`WHERE status = old`, so two approvers or two
engines can never both make it) and appends the audit events in the same transaction;
the events are appended only when the update moved a row. Nothing else in the code
updates `Run.status`, `Write.status` or a workflow's stage, enabled and paused columns
(tests/store/test_transitions_gate.py checks the source).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from peewee import Database

from sophmate_desktop.domain import states
from sophmate_desktop.domain.enums import RunStatus, Stage, WriteStatus
from sophmate_desktop.store import audit
from sophmate_desktop.store.audit import NewEvent
from sophmate_desktop.store.models import Run, Workflow, Write
from sophmate_desktop.store.sql import id_list

CHUNK = 500
Events = NewEvent | Sequence[NewEvent] | Callable[[list[int]], Iterable[NewEvent]] | None


def _in_transaction(db: Database) -> None:
    if not db.in_transaction():
        raise RuntimeError("state changes go through a write transaction")


def _append(db: Database, events: Events, moved: list[int]) -> list[int]:
    """Append the events of a move that moved `moved`; returns their audit ids."""
    if events is None or not moved:
        return []
    if isinstance(events, NewEvent):
        batch: Iterable[NewEvent] = [events]
    elif callable(events):
        batch = events(moved)
    else:
        batch = events
    return audit.append_many(db, batch)


def _move(
    db: Database,
    model: Any,
    check: Callable[[Any, Any], Any],
    ids: Sequence[int],
    old: Any,
    new: Any,
    fields: dict[str, Any],
    events: Events,
    where: Sequence[Any] = (),
) -> list[int]:
    _in_transaction(db)
    olds = [old] if isinstance(old, str) else list(old)
    for o in olds:
        new = check(o, new)
    moved: list[int] = []
    ids = list(dict.fromkeys(ids))
    old_values = [str(o) for o in olds]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        which = model.id == chunk[0] if len(chunk) == 1 else model.id.in_(id_list(db, chunk))
        query = (
            model.update(status=new.value, **fields)
            .where(which, model.status.in_(old_values), *where)
            .returning(model.id)
            .tuples()
        )
        moved += [row_id for (row_id,) in query.execute()]
    _append(db, events, moved)
    return moved


def move_runs(
    db: Database,
    ids: Sequence[int],
    old: RunStatus | Iterable[RunStatus],
    new: RunStatus,
    *,
    events: Events = None,
    where: Sequence[Any] = (),
    **fields: Any,
) -> list[int]:
    """Runs among `ids` that are in `old` move to `new` (with `fields`); returns the
    ids moved. `events`: one event, a list, or a function of the moved ids; `where`:
    further conditions of the same update."""
    return _move(db, Run, states.check_run, ids, old, new, fields, events, where)


def move_run(
    db: Database,
    run_id: int,
    old: RunStatus,
    new: RunStatus,
    *,
    events: Events = None,
    where: Sequence[Any] = (),
    **fields: Any,
) -> bool:
    return bool(move_runs(db, [run_id], old, new, events=events, where=where, **fields))


def move_writes(
    db: Database,
    ids: Sequence[int],
    old: WriteStatus | Iterable[WriteStatus],
    new: WriteStatus,
    *,
    events: Events = None,
    where: Sequence[Any] = (),
    **fields: Any,
) -> list[int]:
    """Writes among `ids` that are in `old` move to `new`; returns the ids moved."""
    return _move(db, Write, states.check_write, ids, old, new, fields, events, where)


def move_write(
    db: Database,
    write_id: int,
    old: WriteStatus,
    new: WriteStatus,
    *,
    events: Events = None,
    where: Sequence[Any] = (),
    **fields: Any,
) -> bool:
    return bool(move_writes(db, [write_id], old, new, events=events, where=where, **fields))


def change_workflow(
    db: Database,
    workflow_id: int,
    *,
    events: Events = None,
    stage: tuple[Stage | str, Stage] | None = None,
    enabled: tuple[bool, bool] | None = None,
    paused: tuple[bool, bool] | None = None,
    **fields: Any,
) -> list[int] | None:
    """Change a workflow's state: each of `stage`, `enabled`, `paused` is (old, new).
    A stage move is checked against the stage machine; the update is conditional on
    every old value, so a concurrent change wins or loses as a whole.

    Returns None when nothing changed (an old value did not hold), else the ids of
    the audit events appended."""
    _in_transaction(db)
    conditions = [Workflow.id == workflow_id]
    if stage is not None:
        old, new = stage
        fields["stage"] = states.check_stage(old, new).value
        conditions.append(Workflow.stage == str(old))
    for column, change in (("enabled", enabled), ("paused", paused)):
        if change is not None:
            old, new = change
            fields[column] = new
            conditions.append(getattr(Workflow, column) == old)
    moved = Workflow.update(**fields).where(*conditions).execute()
    if not moved:
        return None
    return _append(db, events, [workflow_id])
