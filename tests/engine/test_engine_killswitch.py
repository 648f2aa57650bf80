"""Kill switches against a live engine: no write starts after a pause commits, a
running command is killed (pause from this process or another one), held runs."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from pathlib import Path

from sophmate_desktop.console import Console
from sophmate_desktop.store.models import AuditEvent, Run, Workflow, Write
from tests.support.engine import SLEEPER, pending_run, staging_workflow, wait_until
from tests.support.paths import REPO

TWO_WRITES = """\
  - action: write_file
    to: "{{ output.path }}/{{ file.stem }}-a.txt"
    content: "a {{ input }}"
  - action: write_file
    to: "{{ output.path }}/{{ file.stem }}-b.txt"
    content: "b {{ input }}"
"""


def no_write_in_flight() -> bool:
    return not Write.select().where(Write.status == "applying").exists()


def test_no_write_starts_after_a_pause_commits(sqlite_db, sconsole, make_engine, tmp_path):
    engine = make_engine(sqlite_db, sconsole)
    # A write caught by a pause fails its run: on a loaded machine three such runs in a
    # row would pause the workflow by the failure rule (100 is the most it allows).
    staging_workflow(sconsole, engine, tmp_path, "payouts", TWO_WRITES, pause=100)
    pauser = Console(sqlite_db, actor="bo")
    pauser.events.subscribe(engine.wake)
    batches = [pending_run(sconsole, engine, tmp_path, "payouts", f"r{i:03}") for i in range(200)]
    rng = random.Random(20261127)
    approved = 0
    for ids in batches:
        delay = rng.uniform(0, 0.004)
        thread = threading.Thread(
            target=lambda d=delay: (time.sleep(d), pauser.pause_category("finance", "trial"))
        )
        thread.start()
        time.sleep(rng.uniform(0, 0.004))
        approved += sum(r.ok for r in sconsole.approve(ids))
        thread.join()
        wait_until(no_write_in_flight, 10, "writes in flight to end")
        sconsole.resume_category("finance", "next trial")
    engine.wait_idle(60)
    wait_until(
        lambda: not Write.select().where(Write.status.in_(["approved", "applying"])).exists(),
        60,
        "approved writes to apply after the last resume",
    )
    events = list(
        AuditEvent.select(AuditEvent.id, AuditEvent.action, AuditEvent.subject)
        .where(AuditEvent.action.in_(["category.paused", "category.resumed", "write.applying"]))
        .order_by(AuditEvent.id)
    )
    paused = False
    started_while_paused = []
    for ev in events:
        if ev.action == "category.paused":
            paused = True
        elif ev.action == "category.resumed":
            paused = False
        elif paused:
            started_while_paused.append(ev.subject)
    assert started_while_paused == []
    applied = list(Write.select().where(Write.status == "applied"))
    # a write that began just before the pause is stopped at its checkpoint, unapplied
    stopped = list(Write.select().where(Write.status == "failed"))
    assert all("killed" in w.error for w in stopped), [w.error for w in stopped]
    assert len(applied) + len(stopped) == approved > 0
    assert len(applied) > 100
    for w in applied:
        assert Path(w.target).read_text() == w.payload["content"]
    for w in stopped:
        assert not Path(w.target).exists()
    assert sum(ev.action == "category.paused" for ev in events) == 200


def start_sleeper(sconsole, engine, tmp_path: Path) -> int:
    staging_workflow(sconsole, engine, tmp_path, "sleeper", SLEEPER)
    [write_id] = pending_run(sconsole, engine, tmp_path, "sleeper", "go")
    [decided] = sconsole.approve([write_id])
    assert decided.ok, decided.message
    wait_until(lambda: engine.inflight.ids("write") == {write_id}, 10, "the command to start")
    wait_until(lambda: engine.inflight.snapshot()[0].processes, 10, "the process to be registered")
    return write_id


def test_pause_kills_a_running_command(sqlite_db, sconsole, make_engine, tmp_path):
    engine = make_engine(sqlite_db, sconsole)
    write_id = start_sleeper(sconsole, engine, tmp_path)
    [proc] = engine.inflight.snapshot()[0].processes
    sconsole.pause_category("finance", "stop it")
    # How fast (p99 from the pause): python -m bench.killswitch, "in process".
    wait_until(lambda: Write.get_by_id(write_id).status == "failed", 30, "the write to be killed")
    assert proc.poll() is not None and proc.returncode < 0  # killed, not its 30 s sleep ended
    write = Write.get_by_id(write_id)
    assert "killed" in write.error
    # Stopped by a kill switch: cancelled (DESIGN 3), not a failure of the workflow.
    assert engine.wait_for_run(write.run_id, 5) == "cancelled"
    assert Workflow.get_by_id(write.workflow_id).consecutive_failures == 0


def test_pause_from_another_process_kills_a_running_command(
    sqlite_db, sqlite_url, sconsole, make_engine, tmp_path
):
    engine = make_engine(sqlite_db, sconsole)
    write_id = start_sleeper(sconsole, engine, tmp_path)
    [proc] = engine.inflight.snapshot()[0].processes
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "sophmate_desktop",
            "--db",
            sqlite_url,
            "category",
            "pause",
            "finance",
            "--reason",
            "x",
        ],
        cwd=str(REPO),
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(REPO),
            "HOME": str(tmp_path),
            "PYTHON_KEYRING_BACKEND": "tests.support.inmemory_keyring.InMemoryKeyring",
        },
    )
    assert cli.returncode == 0, cli.stderr
    # How fast (p99 from the CLI's exit): python -m bench.killswitch, "from the CLI".
    wait_until(lambda: Write.get_by_id(write_id).status == "failed", 30, "the write to be killed")
    assert proc.poll() is not None and proc.returncode < 0  # killed, not its 30 s sleep ended
    assert "killed" in Write.get_by_id(write_id).error
    assert Run.get_by_id(Write.get_by_id(write_id).run_id).status == "cancelled"
