"""Engine names and pools, and what an engine leaves to another one."""

from __future__ import annotations

import pytest

from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.engine.binding import EngineIdentity, host_engine_name
from sophmate_desktop.store.models import Run
from tests.support.engine import to_staging, wait_until, workflow_doc


def test_names_come_from_the_arguments_then_the_environment_then_the_host(monkeypatch):
    monkeypatch.delenv("SOPHMATE_ENGINE_NAME", raising=False)
    monkeypatch.delenv("SOPHMATE_ENGINE_POOLS", raising=False)
    assert EngineIdentity.of() == EngineIdentity(host_engine_name())
    monkeypatch.setenv("SOPHMATE_ENGINE_NAME", "desk-a")
    monkeypatch.setenv("SOPHMATE_ENGINE_POOLS", "shared, night")
    env = EngineIdentity.of()
    assert (env.name, env.pools) == ("desk-a", frozenset({"shared", "night"}))
    given = EngineIdentity.of("desk-b", ["mail"])
    assert given.serves(None) and given.serves("desk-b") and given.serves("mail")
    assert not given.serves("desk-a") and not given.serves("shared")
    with pytest.raises(BadInput, match="engine name 'a b' is not a valid name"):
        EngineIdentity.of("a b")


def test_a_manual_run_of_a_workflow_bound_elsewhere_waits_queued_for_its_engine(
    sqlite_db, sconsole, make_engine, tmp_path
):
    out = tmp_path / "out"
    out.mkdir()
    sconsole.import_workflow(workflow_doc("bound", None, out) + "runs_on: desk-a\n")
    sample = tmp_path / "sample.txt"
    sample.write_text("sample")
    desk_a = make_engine(sqlite_db, sconsole, watch=False, identity=EngineIdentity.of("desk-a"))
    to_staging(sconsole, desk_a, "bound", sample)
    desk_a.stop()

    desk_b = make_engine(sqlite_db, sconsole, watch=False, identity=EngineIdentity.of("desk-b"))
    run_id = desk_b.run_now("bound", sample)
    desk_b.wake()
    desk_b.wait_idle(timeout=10)
    assert Run.get_by_id(run_id).status == "queued"  # desk-b left it alone

    desk_a = make_engine(sqlite_db, sconsole, watch=False, identity=EngineIdentity.of("desk-a"))
    wait_until(
        lambda: Run.get_by_id(run_id).status == "awaiting_approval", 30, "desk-a to plan it"
    )
    assert Run.get_by_id(run_id).claimed_by.startswith("desk-a:")
