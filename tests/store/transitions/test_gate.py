"""The transition gate: checked, conditional, audited with the change; and the only
code that updates a status column."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sophmate_desktop
from sophmate_desktop.domain.enums import RunStatus, Stage, WriteStatus
from sophmate_desktop.domain.errors import IllegalTransition
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.store import audit
from sophmate_desktop.store.audit import NewEvent
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import AuditEvent, Run, Workflow, Write
from sophmate_desktop.store.transitions import gate
from tests.support.factories import make_run, make_write, workflow_yaml

SOURCE = Path(sophmate_desktop.__file__).parent
GATE = "store/transitions/gate.py"
# Columns whose every change is a state transition.
STATE_COLUMNS = {
    "Run": {"status"},
    "Write": {"status"},
    "Workflow": {"stage", "enabled", "paused"},
}


def _event(action: AuditAction, subject: str) -> NewEvent:
    return NewEvent(actor="tester", action=action, subject=subject)


def _actions() -> list[str]:
    return [e.action for e in AuditEvent.select().order_by(AuditEvent.id)]


@pytest.fixture
def run_and_write(console, db):
    console.import_workflow(workflow_yaml())
    run = make_run(db, "wf-one", status="awaiting_approval")
    write = make_write(db, run, status="pending")
    return run, write


def test_a_run_moves_once_and_its_event_is_appended_with_it(db, run_and_write) -> None:
    run, _ = run_and_write
    before = len(_actions())
    with write_transaction(db):
        moved = gate.move_run(
            db,
            run.id,
            RunStatus.AWAITING_APPROVAL,
            RunStatus.CANCELLED,
            events=_event(AuditAction.RUN_CANCELLED, f"run {run.id}"),
            error="stopped",
        )
        again = gate.move_run(
            db,
            run.id,
            RunStatus.AWAITING_APPROVAL,
            RunStatus.CANCELLED,
            events=_event(AuditAction.RUN_CANCELLED, f"run {run.id}"),
        )
    assert (moved, again) == (True, False)
    stored = Run.get_by_id(run.id)
    assert (stored.status, stored.error) == ("cancelled", "stopped")
    assert _actions()[before:] == ["run.cancelled"]  # the second, unmoved, left no event
    assert audit.verify(db).ok


def test_an_illegal_transition_changes_nothing(db, run_and_write) -> None:
    _, write = run_and_write
    with pytest.raises(IllegalTransition), write_transaction(db):
        gate.move_write(db, write.id, WriteStatus.PENDING, WriteStatus.APPLIED)
    assert Write.get_by_id(write.id).status == "pending"


def test_a_change_outside_a_transaction_is_refused(db, run_and_write) -> None:
    run, _ = run_and_write
    with pytest.raises(RuntimeError, match="write transaction"):
        gate.move_run(db, run.id, RunStatus.AWAITING_APPROVAL, RunStatus.CANCELLED)


def test_many_writes_move_in_chunks_and_events_see_which_moved(db, run_and_write) -> None:
    run, first = run_and_write
    writes = [first] + [make_write(db, run, seq=i, status="pending") for i in range(2, 1203)]
    decided = writes[7]
    with write_transaction(db):
        gate.move_write(db, decided.id, WriteStatus.PENDING, WriteStatus.REJECTED)
    seen: list[int] = []

    def events(moved: list[int]) -> list[NewEvent]:
        seen.extend(moved)
        return [_event(AuditAction.WRITE_APPROVED, f"write {i}") for i in moved]

    with write_transaction(db):
        moved = gate.move_writes(
            db,
            [w.id for w in writes],
            WriteStatus.PENDING,
            WriteStatus.APPROVED,
            events=events,
            decided_by="ana",
        )
    assert sorted(moved) == sorted(seen) == sorted(w.id for w in writes if w is not decided)
    assert Write.get_by_id(decided.id).status == "rejected"
    assert (
        Write.select().where(Write.status == "approved", Write.decided_by == "ana").count() == 1201
    )


def test_a_workflow_change_holds_only_if_every_old_value_holds(db, console) -> None:
    console.import_workflow(workflow_yaml())
    wf = Workflow.get(Workflow.name == "wf-one")
    with write_transaction(db):
        stale = gate.change_workflow(db, wf.id, paused=(True, False))
        moved = gate.change_workflow(
            db,
            wf.id,
            events=_event(AuditAction.WORKFLOW_PROMOTED, "wf-one"),
            stage=(Stage.DRY_RUN, Stage.STAGING),
        )
    assert stale is None
    assert moved is not None and len(moved) == 1
    assert Workflow.get_by_id(wf.id).stage == "staging"
    with pytest.raises(IllegalTransition), write_transaction(db):
        gate.change_workflow(db, wf.id, stage=(Stage.STAGING, Stage.STAGING))


def _state_updates(tree: ast.AST) -> list[tuple[int, str]]:
    """`Model.update(column=...)` calls that set a state column, and SQL text that
    updates one."""
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "update"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in STATE_COLUMNS
        ):
            columns = STATE_COLUMNS[node.func.value.id]
            keys = {k.arg for k in node.keywords}
            if keys & columns or None in keys:  # **fields could hold a state column
                found.append((node.lineno, f"{node.func.value.id}.update"))
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and node.attr in {"status", "stage", "enabled", "paused"}
            and not (isinstance(node.value, ast.Name) and node.value.id == "self")
        ):  # a model instance changed, then saved (`self.x` is a plain object's field)
            found.append((node.lineno, f".{node.attr} ="))
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.upper()
            columns = ("STATUS", "STAGE", "PAUSED", "ENABLED")
            if "UPDATE" in text and any(f'"{c}" =' in text for c in columns):
                found.append((node.lineno, "SQL UPDATE"))
    return sorted(found)


def test_the_scan_finds_state_updates() -> None:
    source = (
        "Run.update(status='x').where(Run.id == 1).execute()\n"
        "Workflow.update(**fields).execute()\n"
        "wf.paused = True\n"
        "Run.update(error='e').execute()\n"
        'sql = \'UPDATE "run" SET "status" = ?\'\n'
    )
    assert _state_updates(ast.parse(source)) == [
        (1, "Run.update"),
        (2, "Workflow.update"),
        (3, ".paused ="),
        (5, "SQL UPDATE"),
    ]


def test_no_module_but_the_gate_updates_a_state_column() -> None:
    offenders = []
    for path in sorted(SOURCE.rglob("*.py")):
        rel = path.relative_to(SOURCE).as_posix()
        if rel == GATE or rel.startswith("store/migrations/") or rel.startswith("ui/"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [f"{rel}:{line}: {what}" for line, what in _state_updates(tree)]
    assert offenders == []
