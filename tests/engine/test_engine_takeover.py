"""kill -9 of an engine while another one runs: the living engine takes the dead one's
work over at its next heartbeat (no restart needed): the orphaned command is killed,
its write waits interrupted for a person, nothing runs twice."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import pytest

from sophmate_desktop.console import Console
from sophmate_desktop.store import instances
from sophmate_desktop.store.models import AuditEvent, EngineInstance, EngineProcess, Write
from tests.support.engine import to_staging, wait_until, workflow_doc
from tests.support.engine_processes import engine_process, stop_engine

RAN = "import sys, time; open(sys.argv[1], 'a').write('ran\\n'); time.sleep(60)"
HEARTBEAT_AND_MARGIN_S = 10.0 + 15.0  # the living engine's heartbeat, then its sweep


def steps(counter: Path) -> str:
    argv = [sys.executable, "-c", RAN, str(counter)]
    return f"""\
  - action: run_command
    argv: {json.dumps(argv)}
    timeout_s: 120
"""


def alive_instances() -> int:
    return EngineInstance.select().where(EngineInstance.stopped_at.is_null()).count()


@pytest.mark.timeout(180)
def test_a_living_engine_takes_over_a_killed_engines_command(
    db, db_url, console, make_engine, tmp_path
):
    out, counter = tmp_path / "out", tmp_path / "ran.count"
    out.mkdir()
    console.import_workflow(workflow_doc("crashy", None, out, steps=steps(counter)))
    local = make_engine(db, console, watch=False)
    sample = tmp_path / "sample.txt"
    sample.write_text("sample")
    to_staging(console, local, "crashy", sample)
    run_id = local.run_now("crashy", sample)
    assert local.wait_for_run(run_id, 30) == "awaiting_approval"
    local.stop()
    [write_id] = [w.id for w in Write.select(Write.id).where(Write.run == run_id)]
    assert Console(db, actor="bob").approve([write_id])[0].ok  # four eyes on a team database

    first = engine_process(db_url, tmp_path, 1)
    second = None
    try:
        wait_until(lambda: counter.exists(), 30, "the command to start on the first engine")
        [process] = list(EngineProcess.select().where(EngineProcess.write == write_id))
        second = engine_process(db_url, tmp_path, 2)
        wait_until(lambda: alive_instances() == 2, 30, "the second engine to start")
        first.send_signal(signal.SIGKILL)
        first.wait(10)

        def interrupted() -> bool:
            return Write.get_by_id(write_id).status == "interrupted"

        wait_until(interrupted, HEARTBEAT_AND_MARGIN_S, "the second engine to take over")
        assert not instances.pid_alive(process.pid)  # its command did not outlive it
        assert counter.read_text() == "ran\n"  # and it ran once: never started again
        [event] = list(AuditEvent.select().where(AuditEvent.action == "write.interrupted"))
        assert "stopped while applying" in event.reason
        assert f"its command (pid {process.pid})" in event.reason  # what became of it
        assert write_id in {w.id for w in console.list_inbox()}  # waiting for a person
        states = {(r.pid, r.state, r.writes_held) for r in console.engines()}
        assert (first.pid, "down", 0) in states  # shown as down, its work taken over
        assert (second.pid, "up", 0) in states
    finally:
        if first.poll() is None:
            first.kill()
        if second is not None:
            assert stop_engine(second) == 0
