"""An engine whose ticks are a minute apart still kills a running command the moment
another person's pause commits on PostgreSQL: its monitor listens (LISTEN/NOTIFY,
store/change_listener.py)."""

from __future__ import annotations

import pytest

from sophmate_desktop.console import Console
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import Write
from tests.support.engine import wait_until

pytestmark = pytest.mark.postgres

WAIT = 10.0  # far below the engine's 60 s tick: only a notification can be this fast


def test_a_pause_from_another_console_kills_a_command_on_a_slow_ticking_engine(
    pg_db, make_engine, tmp_path
):
    from tests.support.engine import SLEEPER, pending_run, staging_workflow

    lead = Console(pg_db, actor="ana")
    engine = make_engine(pg_db, lead, tick_s=60.0, idle_tick_s=60.0)
    staging_workflow(lead, engine, tmp_path, "sleeper", SLEEPER)
    [write_id] = pending_run(lead, engine, tmp_path, "sleeper", "go")
    approver = Console(pg_db, actor="cy")  # four eyes on a team database
    approver.events.subscribe(engine.wake)
    assert approver.approve([write_id])[0].ok
    wait_until(lambda: engine.inflight.ids("write") == {write_id}, WAIT, "the command to start")
    wait_until(lambda: engine.inflight.snapshot()[0].processes, WAIT, "its process")
    [proc] = engine.inflight.snapshot()[0].processes

    # Another person's console: nothing in this process tells the engine about it.
    other_db = open_database(pg_db_url(pg_db))
    try:
        Console(other_db, actor="bob").pause_category("finance", "stop it")
    finally:
        other_db.close()
    wait_until(lambda: Write.get_by_id(write_id).status == "failed", WAIT, "the kill")
    assert proc.poll() is not None and proc.returncode < 0  # killed, not its sleep ended
    assert engine.wait_for_run(Write.get_by_id(write_id).run_id, WAIT) == "cancelled"


def pg_db_url(db) -> str:
    p = db.connect_params
    return f"postgresql://{p['user']}:{p['password']}@{p['host']}:{p['port']}/{db.database}"
