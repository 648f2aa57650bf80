"""Work bound to where it can run: two engines named desk-a and desk-b, each its own
process, share one database; a workflow that says `runs_on: desk-a` is watched,
planned and applied by desk-a alone, whoever else is up."""

from __future__ import annotations

from pathlib import Path

import pytest

from sophmate_desktop.console import Console
from sophmate_desktop.engine.binding import EngineIdentity
from sophmate_desktop.store.models import AuditEvent, Run, Write
from tests.support.engine import to_staging, wait_until, workflow_doc
from tests.support.engine_processes import engine_process, stop_engine

FILES = 200


def bound_workflow(folder: Path, out: Path) -> str:
    return workflow_doc("bound", folder, out, settle_ms=0) + "runs_on: desk-a\n"


@pytest.mark.timeout(240)
def test_a_bound_workflow_runs_and_applies_only_on_its_engine(
    db, db_url, console, make_engine, tmp_path
):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    out.mkdir()
    console.import_workflow(bound_workflow(folder, out))
    setup = make_engine(db, console, watch=False, identity=EngineIdentity.of("desk-a"))
    sample = tmp_path / "sample.txt"
    sample.write_text("sample")
    to_staging(console, setup, "bound", sample)
    setup.stop()

    b = engine_process(db_url, tmp_path, 2, "--engine-name", "desk-b")
    a = engine_process(db_url, tmp_path, 1, "--engine-name", "desk-a")
    try:
        wait_until(lambda: len(console.engines()) >= 3, 30, "both engines to start")
        for i in range(FILES):
            (folder / f"f{i:03d}.txt").write_text(f"row {i}")

        def planned() -> bool:
            runs = Run.select().where(Run.trigger_kind == "file")
            return runs.where(Run.status == "awaiting_approval").count() == FILES

        wait_until(planned, 60, f"{FILES} runs to await approval")
        hosts = [r.host.partition(":")[0] for r in Run.select().where(Run.trigger_kind == "file")]
        assert hosts.count("desk-a") == FILES and "desk-b" not in hosts

        ids = [w.id for w in Write.select(Write.id).where(Write.status == "pending")]
        assert len(ids) == FILES
        assert all(r.ok for r in Console(db, actor="bob").approve(ids))
        wait_until(
            lambda: Write.select().where(Write.status == "applied").count() == FILES,
            60,
            "every approved write to be applied",
        )
        appliers = {
            e.details.get("host", "").partition(":")[0]
            for e in AuditEvent.select().where(AuditEvent.action == "write.applying")
        }
        assert appliers == {"desk-a"}
        assert len(list(out.iterdir())) == FILES
        names = {r.name: r.state for r in console.engines() if r.state == "up"}
        assert names == {"desk-a": "up", "desk-b": "up"}
    finally:
        for proc in (a, b):
            assert stop_engine(proc) == 0
