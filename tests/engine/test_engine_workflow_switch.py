"""A workflow's own kill switch against a live engine: pausing it kills its running
command, and its write ends cancelled (a pause is not a failure of the workflow)."""

from __future__ import annotations

from sophmate_desktop.store.models import Workflow, Write
from tests.support.engine import SLEEPER, pending_run, staging_workflow, wait_until


def test_pausing_a_workflow_kills_its_running_command(sqlite_db, sconsole, make_engine, tmp_path):
    engine = make_engine(sqlite_db, sconsole)
    staging_workflow(sconsole, engine, tmp_path, "sleeper", SLEEPER)
    [write_id] = pending_run(sconsole, engine, tmp_path, "sleeper", "go")
    [decided] = sconsole.approve([write_id])
    assert decided.ok, decided.message
    wait_until(lambda: engine.inflight.ids("write") == {write_id}, 10, "the command to start")
    wait_until(lambda: engine.inflight.snapshot()[0].processes, 10, "the process to be registered")
    [proc] = engine.inflight.snapshot()[0].processes
    result = sconsole.pause_workflow("sleeper", "wrong target host")
    assert result.changed
    wait_until(lambda: Write.get_by_id(write_id).status == "failed", 30, "the write to be killed")
    assert proc.poll() is not None and proc.returncode < 0  # killed, not its sleep ended
    write = Write.get_by_id(write_id)
    assert "killed" in write.error and "workflow sleeper is paused" in write.error
    assert engine.wait_for_run(write.run_id, 5) == "cancelled"
    wf = Workflow.get_by_id(write.workflow_id)
    assert wf.paused and wf.consecutive_failures == 0
