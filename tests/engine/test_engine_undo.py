"""Undo of applied file writes, end to end: a real engine writes, a person plans the
undo, approves it, and the engine puts every byte back."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sophmate_desktop.domain.errors import PolicyRefused
from sophmate_desktop.store.models import AuditEvent, Run, Write
from tests.support.engine import to_staging, wait_until, workflow_doc

TEN = 10


def _steps(n: int) -> str:
    return "".join(
        f'  - action: write_file\n    to: "{{{{ output.path }}}}/f{i}.bin"\n'
        f'    content: "new {i}: {{{{ input }}}}"\n'
        for i in range(n)
    )


def _state(out: Path, n: int) -> dict[str, str | None]:
    paths = [out / f"f{i}.bin" for i in range(n)]
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None for p in paths
    }


def test_undo_of_a_run_with_10_file_writes_restores_every_byte(
    sqlite_db, sconsole, make_engine, tmp_path
):
    engine = make_engine(sqlite_db, sconsole)
    run_id, out = _applied_run_before(sconsole, engine, tmp_path)
    before = _state(out, TEN)
    assert sum(v is None for v in before.values()) == TEN // 2
    run_id = _apply(sconsole, engine, run_id)
    assert _state(out, TEN) != before

    result = sconsole.undo_run(run_id)
    assert result.writes == TEN and result.run.status == "awaiting_approval"
    undo = Write.select().where(Write.run == result.run.id).order_by(Write.seq)
    assert [w.status for w in undo] == ["pending"] * TEN  # never approved by the gate
    assert [w.kind for w in undo] == ["undo_file"] * TEN
    assert Run.get_by_id(result.run.id).trigger_kind == "undo"
    restore = next(w for w in undo if w.target.endswith("f2.bin"))
    assert "(after the undo)" in restore.preview or "not text" in restore.preview
    planned = AuditEvent.select().where(AuditEvent.action == "write.undo_planned").count()
    assert planned == TEN

    assert all(r.ok for r in sconsole.approve([w.id for w in undo]))
    status = engine.wait_for_run(result.run.id, 30, until=("succeeded", "failed"))
    assert status == "succeeded", Run.get_by_id(result.run.id).error
    assert _state(out, TEN) == before


def _applied_run_before(sconsole, engine, tmp_path: Path) -> tuple[int, Path]:
    out = tmp_path / "out"
    out.mkdir()
    for i in range(0, TEN, 2):  # half exist before (restored), half are new (deleted)
        (out / f"f{i}.bin").write_bytes(bytes(range(256)) * (i + 1) + b"\xff\x00 old")
    sconsole.import_workflow(workflow_doc("undo-me", None, out, steps=_steps(TEN)))
    sample = tmp_path / "sample.txt"
    sample.write_text("sample")
    to_staging(sconsole, engine, "undo-me", sample)
    run_id = engine.run_now("undo-me", sample)
    assert engine.wait_for_run(run_id, 30) == "awaiting_approval"
    return run_id, out


def _apply(sconsole, engine, run_id: int) -> int:
    ids = [w.id for w in Write.select(Write.id).where(Write.run == run_id)]
    assert all(r.ok for r in sconsole.approve(ids))
    assert engine.wait_for_run(run_id, 30, until=("succeeded", "failed")) == "succeeded"
    return run_id


def test_undo_is_refused_after_the_target_changed(sqlite_db, sconsole, make_engine, tmp_path):
    engine = make_engine(sqlite_db, sconsole)
    run_id, out = _applied_run_before(sconsole, engine, tmp_path)
    _apply(sconsole, engine, run_id)
    (out / "f3.bin").write_text("edited by a person after the write")
    with pytest.raises(PolicyRefused, match="changed since it was applied"):
        sconsole.undo_run(run_id)
    changed = Write.get(Write.run == run_id, Write.target == str(out / "f3.bin"))
    with pytest.raises(PolicyRefused, match="changed since it was applied"):
        sconsole.undo_write(changed.id)
    assert Run.select().where(Run.trigger_kind == "undo").count() == 0

    # planned while unchanged, changed before the approval: the apply refuses too
    other = Write.get(Write.run == run_id, Write.target == str(out / "f4.bin"))
    result = sconsole.undo_write(other.id)
    (out / "f4.bin").write_text("changed while the undo waited")
    [undo] = Write.select().where(Write.run == result.run.id)
    assert sconsole.approve([undo.id])[0].ok
    wait_until(lambda: Write.get_by_id(undo.id).status in ("failed", "interrupted"), 30, "the undo")
    assert "changed since it was applied" in (Write.get_by_id(undo.id).error or "")
    assert (out / "f4.bin").read_text() == "changed while the undo waited"
