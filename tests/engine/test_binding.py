"""Engine names and pools, and what an engine leaves to another one."""

from __future__ import annotations

import datetime as dt

import pytest

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.engine.binding import (
    LEASE_ENV,
    EngineIdentity,
    engine_lease,
    host_engine_name,
)
from sophmate_desktop.engine.sweep import beat_interval
from sophmate_desktop.store import instances
from sophmate_desktop.store.models import EngineInstance, Run
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
    wait_until(lambda: Run.get_by_id(run_id).status == "awaiting_approval", 30, "desk-a to plan it")
    assert Run.get_by_id(run_id).claimed_by.startswith("desk-a:")


def test_the_lease_comes_from_the_argument_then_the_environment_then_30_s(monkeypatch):
    monkeypatch.delenv(LEASE_ENV, raising=False)
    assert engine_lease() == instances.LEASE_S == 30.0
    monkeypatch.setenv(LEASE_ENV, "6")
    assert engine_lease() == 6.0
    assert engine_lease(12) == 12.0
    assert beat_interval(6.0) == 2.0 and beat_interval(30.0) == 10.0 == beat_interval(90.0)
    with pytest.raises(BadInput, match="must be at least 3 seconds"):
        engine_lease(1)
    monkeypatch.setenv(LEASE_ENV, "soon")
    with pytest.raises(BadInput, match="SOPHMATE_ENGINE_LEASE_S 'soon' is not a number"):
        engine_lease()


def test_another_hosts_engine_is_dead_past_the_lease_it_declared(sqlite_db, monkeypatch):
    monkeypatch.setenv(instances.HOST_ENV, "desk-here")
    assert instances.this_host() == "desk-here"
    now = utcnow()
    for key, lease, silent in (("short", 6.0, 8), ("long", 60.0, 8), ("old", None, 31)):
        EngineInstance.create(
            id=key, host="desk-there", pid=1, lease_s=lease,
            heartbeat_at=now - dt.timedelta(seconds=silent),
        )  # fmt: skip
    assert instances.dead_instances(sqlite_db) == {"short", "old"}  # "old": the 30 s default
    # the soonest lease still running: "long" ends in about 52 s
    assert 50 < instances.next_lease_end(sqlite_db) <= 52
