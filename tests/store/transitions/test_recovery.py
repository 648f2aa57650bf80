"""Recovery judges engines by instance (pid start time), not by a bare pid."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import EffectKind
from sophmate_desktop.engine.actions.base import PlannedWrite
from sophmate_desktop.store import instances
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import EngineInstance, Workflow, Write
from sophmate_desktop.store.transitions import outcomes, recovery
from tests.support.run_flow import WORKFLOW, Flow, command


@pytest.fixture
def flow(db, make_console) -> Flow:
    make_console("lead").import_workflow(WORKFLOW)
    console = make_console("ana")
    with write_transaction(db):
        Workflow.update(stage="staging", enabled=True).execute()
    return Flow(db, console)


@pytest.fixture
def other_process():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def applying_claimed_by(flow: Flow, pid: int, start: int | None) -> tuple[int, str]:
    key = instances.new_instance_id()
    EngineInstance.insert(
        id=key, host=socket.gethostname(), pid=pid, pid_start=start
    ).execute()
    token = f"{socket.gethostname()}:{pid}#{key}"
    run_id = flow.offer()
    flow.claim(run_id)
    flow.plan(run_id, [command("notify-erp")])
    [write] = flow.writes(run_id)
    flow.console.approve([write])
    taken, why = outcomes.begin_apply(flow.db, write, token)
    assert taken is not None, why
    return write, token


def test_a_reused_pid_is_recognised(flow, other_process) -> None:
    real = instances.pid_start_time(other_process.pid)
    assert real is not None
    write, _ = applying_claimed_by(flow, other_process.pid, real + 1)  # pid reused
    me = instances.claim_token(instances.new_instance_id())
    assert recovery.recover(flow.db, me)["writes_interrupted"] == 1
    assert Write.get_by_id(write).status == "interrupted"


def test_a_live_instance_keeps_its_write(flow, other_process) -> None:
    real = instances.pid_start_time(other_process.pid)
    write, _ = applying_claimed_by(flow, other_process.pid, real)
    me = instances.claim_token(instances.new_instance_id())
    assert recovery.recover(flow.db, me)["writes_interrupted"] == 0
    assert Write.get_by_id(write).status == "applying"


def test_temp_files_of_interrupted_copies_are_removed(tmp_path) -> None:
    target = tmp_path / "report.csv"
    temp = tmp_path / ".report.csv.0123456789ab.sophmate-tmp"
    temp.write_bytes(b"half")
    keep = tmp_path / ".other.csv.0123456789ab.sophmate-tmp"
    keep.write_bytes(b"x")
    assert recovery.remove_temp_files([str(target)]) == 1
    assert not temp.exists() and keep.exists()


def _file_write_claimed_on(flow: Flow, host: str, target) -> int:
    key = instances.new_instance_id()
    EngineInstance.insert(id=key, host=host, pid=1, pid_start=None, stopped_at=utcnow()).execute()
    run_id = flow.offer()
    flow.claim(run_id)
    flow.plan(run_id, [PlannedWrite("write_file", EffectKind.FILE, str(target),
                                    f"write {target}", "hello", {"path": str(target)})])
    [write] = flow.writes(run_id)
    flow.console.approve([write])
    taken, why = outcomes.begin_apply(flow.db, write, f"desk:1#{key}")
    assert taken is not None, why
    return write


@pytest.mark.parametrize("where", ["this host", "another desktop"])
def test_temp_files_are_removed_only_for_a_dead_engine_of_this_host(flow, tmp_path, where):
    target = tmp_path / "report.csv"
    temp = tmp_path / ".report.csv.0123456789ab.sophmate-tmp"
    temp.write_bytes(b"half")
    host = socket.gethostname() if where == "this host" else "other-desk"
    write = _file_write_claimed_on(flow, host, target)
    me = instances.claim_token(instances.new_instance_id())
    counts = recovery.recover(flow.db, me)
    assert Write.get_by_id(write).status == "approved"  # resumed either way (idempotent)
    assert counts["temp_files_removed"] == (1 if where == "this host" else 0)
    assert temp.exists() is (where != "this host")
