"""Big inputs stream (issue 14, item 10): a CSV read, planned and stored in batches
makes the same writes as the whole-input plan, refuses a run over `max_writes` with
nothing stored, and a pause during a long streamed plan cancels it leaving no half
plan. (Speed and memory are bench figures: bench/big_input.py.)"""

from __future__ import annotations

import re
from pathlib import Path

from sophmate_desktop.engine import plan_stream
from sophmate_desktop.store.models import AuditEvent, Run, Write
from tests.support.engine import wait_until, workflow_doc

STEPS = """\
  - action: write_file
    for_each: rows
    to: "{{ output.path }}/{{ row.id }}.txt"
    content: "{{ row.name }} owes {{ row.amount }} ({{ run.mode }}, {{ file.name }})"
  - action: copy_file
    to: "{{ output.path }}/copy-{{ file.name }}"
  - action: write_file
    for_each: rows
    to: "{{ output.path }}/{{ row.id }}-note.txt"
    content: "note for {{ row.name | upper }}"
"""

SLOW_ROW = """\
  - action: write_file
    for_each: rows
    to: "{{ output.path }}/{{ row.id }}.txt"
    content: "{% for i in range(3000) %}{{ row.name }}{% endfor %}"
"""

COMPARED = ("seq", "kind", "effect", "target", "summary", "preview", "payload", "status")


def csv_file(path: Path, rows: int) -> Path:
    lines = "".join(f'{i},"name {i}, ""q""",{i % 97}.50\n' for i in range(1, rows + 1))
    path.write_text("\ufeffid,name,amount\n" + lines)
    return path


def import_workflow(console, tmp_path: Path, name: str, steps: str, extra: str = "") -> None:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    console.import_workflow(workflow_doc(name, None, out, read="csv", steps=steps) + extra)
    console.enable_workflow(name)


def writes_of(run_id: int) -> list[tuple]:
    query = Write.select().where(Write.run == run_id).order_by(Write.seq)
    return [(*(getattr(w, f) for f in COMPARED), w.comment) for w in query]


def test_a_streamed_plan_makes_the_writes_of_the_whole_input_plan(
    sqlite_db, sconsole, make_engine, tmp_path
):
    import_workflow(sconsole, tmp_path, "rows", STEPS, "max_writes: none\n")
    engine = make_engine(sqlite_db, sconsole, watch=False, workers=1)
    source = csv_file(tmp_path / "big.csv", 4_500)  # three batches of 2,000 rows
    assert source.stat().st_size < plan_stream.STREAM_MIN_BYTES
    whole = engine.run_now("rows", source, mode="dry_run")
    assert engine.wait_for_run(whole, 60) == "succeeded"
    engine.executor.stream_min_bytes = 0  # this input streams now
    streamed = engine.run_now("rows", source, mode="dry_run")
    assert engine.wait_for_run(streamed, 60) == "succeeded"

    expected, got = writes_of(whole), writes_of(streamed)
    assert len(got) == 2 * 4_500 + 1
    assert got == expected
    assert [Path(w[3]).name for w in got[4_499:4_502]] == ["4500.txt", "copy-big.csv", "1-note.txt"]
    a, b = Run.get_by_id(whole), Run.get_by_id(streamed)
    figures = ("actions", "affected_records", "bytes_read", "cost")
    assert [getattr(b, f) for f in figures] == [getattr(a, f) for f in figures]
    assert b.affected_records == 4_500
    planned = {
        e.run: e.details for e in AuditEvent.select().where(AuditEvent.action == "run.planned")
    }
    assert planned[streamed] == planned[whole]


def test_a_streamed_run_over_max_writes_stores_nothing(sqlite_db, sconsole, make_engine, tmp_path):
    import_workflow(sconsole, tmp_path, "rows", STEPS, "max_writes: 100\n")
    engine = make_engine(sqlite_db, sconsole, watch=False, workers=1)
    engine.executor.stream_min_bytes = 0
    run_id = engine.run_now("rows", csv_file(tmp_path / "big.csv", 3_000), mode="dry_run")
    assert engine.wait_for_run(run_id, 30) == "failed"
    error = Run.get_by_id(run_id).error
    # two writes a row and one more: 49 rows fit, the 50th is over (no further row is read)
    assert "at least 101 writes, over max_writes (100)" in error, error
    assert "max_writes: none" in error
    assert Write.select().where(Write.run == run_id).count() == 0
    assert (
        not AuditEvent.select()
        .where(AuditEvent.run == run_id, AuditEvent.action == "run.planned")
        .exists()
    )


def test_a_streamed_run_within_max_writes_plans_every_row(
    sqlite_db, sconsole, make_engine, tmp_path
):
    import_workflow(sconsole, tmp_path, "rows", STEPS, "max_writes: 101\n")
    engine = make_engine(sqlite_db, sconsole, watch=False, workers=1)
    engine.executor.stream_min_bytes = 0
    run_id = engine.run_now("rows", csv_file(tmp_path / "big.csv", 50), mode="dry_run")
    assert engine.wait_for_run(run_id, 30) == "succeeded"
    assert Write.select().where(Write.run == run_id).count() == 101


def test_a_pause_during_a_long_streamed_plan_cancels_it_and_leaves_no_half_plan(
    sqlite_db, sconsole, make_engine, tmp_path
):
    import_workflow(sconsole, tmp_path, "slow", SLOW_ROW, "max_writes: none\n")
    engine = make_engine(sqlite_db, sconsole, watch=False, workers=1)
    engine.executor.stream_min_bytes = 0
    run_id = engine.run_now("slow", csv_file(tmp_path / "big.csv", 200_000), mode="dry_run")
    wait_until(lambda: engine.executor.guard.rendering() >= 1, 20, "the plan to render")
    sconsole.pause_all("stop the big plan")
    assert engine.wait_for_run(run_id, 10) == "cancelled"
    run = Run.get_by_id(run_id)
    assert "stop the big plan" in run.error, run.error
    assert Write.select().where(Write.run == run_id).count() == 0
    assert (
        not AuditEvent.select()
        .where(AuditEvent.run == run_id, AuditEvent.action == "run.planned")
        .exists()
    )
    wait_until(lambda: engine.free_workers() == 1, 5, "the worker free")


def test_a_bad_row_far_into_a_streamed_input_fails_the_run_naming_it(
    sqlite_db, sconsole, make_engine, tmp_path
):
    import_workflow(sconsole, tmp_path, "rows", STEPS, "max_writes: none\n")
    engine = make_engine(sqlite_db, sconsole, watch=False, workers=1)
    engine.executor.stream_min_bytes = 0
    source = csv_file(tmp_path / "big.csv", 3_000)
    source.write_bytes(source.read_bytes() + b"3001,\xff\xfe,1\n")
    run_id = engine.run_now("rows", source, mode="dry_run")
    assert engine.wait_for_run(run_id, 30) == "failed"
    error = Run.get_by_id(run_id).error
    offset = source.read_bytes().index(b"\xff")
    assert f"is not valid utf-8 text (byte {offset}:" in error, error
    assert Write.select().where(Write.run == run_id).count() == 0


def every_column_of(run_id: int) -> list[dict]:
    """Each write of the run as stored, less what differs between two runs."""
    differ = {"id", "run", "idempotency_key", "created_at"}
    names = [f.name for f in Write._meta.sorted_fields if f.name not in differ]
    query = Write.select().where(Write.run == run_id).order_by(Write.seq)
    return [{n: getattr(w, n) for n in names} for w in query]


def test_a_streamed_staging_plan_stores_every_column_as_the_whole_input_plan(
    sqlite_db, sconsole, make_engine, tmp_path
):
    steps = STEPS.replace(
        "  - action: copy_file\n", "  - action: copy_file\n    customer_facing: true\n"
    )
    import_workflow(sconsole, tmp_path, "rows", steps, "max_writes: none\n")
    engine = make_engine(sqlite_db, sconsole, watch=False, workers=1)
    source = csv_file(tmp_path / "big.csv", 2_500)
    whole = engine.run_now("rows", source, mode="staging")
    assert engine.wait_for_run(whole, 60) == "awaiting_approval"
    engine.executor.stream_min_bytes = 0
    streamed = engine.run_now("rows", source, mode="staging")
    assert engine.wait_for_run(streamed, 60) == "awaiting_approval"

    expected, got = every_column_of(whole), every_column_of(streamed)
    assert len(got) == 2 * 2_500 + 1
    assert got == expected
    assert [w["customer_facing"] for w in got[2_499:2_502]] == [False, True, False]
    keys = [w.idempotency_key for w in Write.select().where(Write.run == streamed)]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(rf"{streamed}-\d+-[0-9a-f]{{16}}", k) for k in keys), keys[:3]
