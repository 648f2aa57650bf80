"""Two engine processes on one database (SQLite, PostgreSQL) over one-second slots:
exactly one run per slot, none missed, none doubled (issue 12: 12 runs in 62 s instead
of 6 with the old in-memory interval)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.store.models import EngineInstance, Run, ScheduleSlot
from tests.support.engine import wait_until
from tests.support.schedules import scheduled_doc

REPO = Path(__file__).resolve().parents[2]
SLOTS = 20  # one-second slots while both engines run


def engine_process(url: str, tmp_path: Path, n: int) -> subprocess.Popen:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(REPO),
        "PYTHON_KEYRING_BACKEND": "tests.support.inmemory_keyring.InMemoryKeyring",
    }
    log = tmp_path / f"engine-{n}.log"
    return subprocess.Popen(
        [sys.executable, "-m", "sophmate_desktop", "--db", url, "engine", "--log-file", str(log)],
        cwd=str(REPO),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.slow
def test_two_engines_start_one_run_per_slot(db, db_url, console, tmp_path) -> None:
    console.import_workflow(
        scheduled_doc("every-second", tmp_path, cron="* * * * * *", catch_up="all")
    )
    console.enable_workflow("every-second")
    procs = [engine_process(db_url, tmp_path, n) for n in (1, 2)]
    try:
        wait_until(
            lambda: EngineInstance.select().where(EngineInstance.stopped_at.is_null()).count()
            == 2,
            60,
            "both engines to start",
        )
        both_from = utcnow()
        wait_until(
            lambda: ScheduleSlot.select()
            .where(ScheduleSlot.slot_at > both_from + dt.timedelta(seconds=SLOTS))
            .exists(),
            SLOTS + 60,
            f"{SLOTS} slots with both engines running",
        )
    finally:
        for proc in procs:
            stop(proc)
    for proc in procs:
        assert proc.returncode == 0, proc.stdout.read().decode(errors="replace")
    slots = list(ScheduleSlot.select().order_by(ScheduleSlot.slot_at))
    times = [s.slot_at for s in slots]
    first, last = times[0], times[-1]
    expected = int((last - first).total_seconds()) + 1
    assert times == [first + dt.timedelta(seconds=i) for i in range(expected)]  # no gap
    assert sum(t > both_from for t in times) >= SLOTS
    runs = list(Run.select(Run.id, Run.trigger_kind))
    assert len(runs) == len(slots)  # one run per slot, none without its slot
    assert sorted(s.run_id for s in slots) == sorted(r.id for r in runs)
    assert {r.trigger_kind for r in runs} == {"schedule"}
