"""Runs planned in batches: a run's `max_writes`, a burst of queued runs claimed and
recorded together, and the next run seeing a changed workflow."""

from __future__ import annotations

from pathlib import Path

from sophmate_desktop.domain.workflow_file import (
    definition_from_dict,
    definition_to_dict,
    parse_workflow_yaml,
)
from sophmate_desktop.store.models import AuditEvent, Run, Write
from tests.support.engine import workflow_doc

ROW_STEP = """\
  - action: write_file
    for_each: rows
    to: "{{ output.path }}/{{ row.id }}.txt"
    content: "{{ row.name }}"
"""


def csv_file(path: Path, rows: int) -> Path:
    path.write_text("id,name\n" + "".join(f"{i},name-{i}\n" for i in range(1, rows + 1)))
    return path


def row_workflow(console, tmp_path: Path, name: str, extra: str = "") -> None:
    doc = workflow_doc(name, None, tmp_path / "out", read="csv", steps=ROW_STEP) + extra
    console.import_workflow(doc)
    console.enable_workflow(name)


def test_a_run_over_max_writes_fails_naming_the_limit_with_nothing_stored(
    sqlite_db, sconsole, make_engine, tmp_path
):
    row_workflow(sconsole, tmp_path, "rows", "max_writes: 5\n")
    engine = make_engine(sqlite_db, sconsole)
    run_id = engine.run_now("rows", csv_file(tmp_path / "six.csv", 6), mode="dry_run")
    assert engine.wait_for_run(run_id, 20) == "failed"
    run = Run.get_by_id(run_id)
    assert "6 writes, over max_writes (5)" in run.error
    assert "max_writes: none" in run.error
    assert Write.select().where(Write.run == run_id).count() == 0
    assert AuditEvent.select().where(AuditEvent.action == "run.planned").count() == 0


def test_a_run_at_max_writes_plans_every_row_in_order(sqlite_db, sconsole, make_engine, tmp_path):
    row_workflow(sconsole, tmp_path, "rows", "max_writes: 6\n")
    engine = make_engine(sqlite_db, sconsole)
    run_id = engine.run_now("rows", csv_file(tmp_path / "six.csv", 6), mode="dry_run")
    assert engine.wait_for_run(run_id, 20) == "succeeded"
    targets = [w.target for w in Write.select().where(Write.run == run_id).order_by(Write.seq)]
    assert [Path(t).name for t in targets] == [f"{i}.txt" for i in range(1, 7)]


def test_max_writes_defaults_to_10000_and_none_lifts_it(tmp_path):
    base = workflow_doc("rows", None, tmp_path / "out", read="csv", steps=ROW_STEP)
    assert parse_workflow_yaml(base).max_writes == 10_000
    lifted = parse_workflow_yaml(base + "max_writes: none\n")
    assert lifted.max_writes is None
    assert definition_from_dict(definition_to_dict(lifted)).max_writes is None
    assert definition_to_dict(parse_workflow_yaml(base)).get("max_writes") is None
    try:
        parse_workflow_yaml(base + "max_writes: 0\n")
    except Exception as exc:
        assert "max_writes" in str(exc)
    else:
        raise AssertionError("max_writes: 0 was accepted")


def test_a_burst_of_queued_runs_each_runs_once_with_its_whole_trail(
    sqlite_db, sconsole, make_engine, tmp_path
):
    sconsole.import_workflow(workflow_doc("burst", None, tmp_path / "out", read="none",
                                          steps=WRITE_NAME))  # fmt: skip
    sconsole.enable_workflow("burst")
    engine = make_engine(sqlite_db, sconsole, workers=2)
    ids = [engine.run_now("burst", mode="dry_run") for _ in range(120)]
    for run_id in ids:
        assert engine.wait_for_run(run_id, 60) == "succeeded"
    assert Write.select().where(Write.run.in_(ids)).count() == 120
    for action in ("run.started", "run.planned", "run.succeeded"):
        subjects = [e.subject for e in AuditEvent.select().where(AuditEvent.action == action)]
        assert sorted(subjects) == sorted(f"run {i}" for i in ids), action
    runs = list(Run.select().where(Run.id.in_(ids)))
    assert all(r.actions == 1 and r.finished_at is not None for r in runs)
    assert all(r.duration_ms is not None for r in runs)


WRITE_NAME = """\
  - action: write_file
    to: "{{ output.path }}/{{ run.id }}.txt"
    content: "first"
"""


def test_the_next_run_sees_a_changed_workflow(sqlite_db, sconsole, make_engine, tmp_path):
    doc = workflow_doc("changing", None, tmp_path / "out", read="none", steps=WRITE_NAME)
    sconsole.import_workflow(doc)
    sconsole.enable_workflow("changing")
    engine = make_engine(sqlite_db, sconsole)
    first = engine.run_now("changing", mode="dry_run")
    assert engine.wait_for_run(first, 20) == "succeeded"
    sconsole.import_workflow(doc.replace('"first"', '"second"'))
    second = engine.run_now("changing", mode="dry_run")
    assert engine.wait_for_run(second, 20) == "succeeded"
    (w1,) = Write.select().where(Write.run == first)
    (w2,) = Write.select().where(Write.run == second)
    assert "first" in w1.preview and "second" in w2.preview
