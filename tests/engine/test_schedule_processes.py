"""Two engine processes on one SQLite file and two on one PostgreSQL database, all four
at once, over 200 one-second slots: exactly 200 runs on each, none missed, none
doubled (issue 12: 12 runs in 62 s instead of 6 with the old in-memory interval)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sophmate_desktop.console import Console
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import Run, ScheduleSlot
from tests.support.engine import wait_until
from tests.support.schedules import scheduled_doc

REPO = Path(__file__).resolve().parents[2]
SLOTS = 200  # one-second slots while both engines run on each database


def engine_process(url: str, tmp_path: Path, n: int) -> subprocess.Popen:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(REPO),
        "PYTHON_KEYRING_BACKEND": "tests.support.inmemory_keyring.InMemoryKeyring",
    }
    log = tmp_path / f"engine-{n}.log"
    # a file, not a pipe: nobody reads a pipe for the minutes the engines run
    output = (tmp_path / f"engine-{n}.out").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sophmate_desktop", "--db", url, "engine", "--log-file", str(log)],
        cwd=str(REPO),
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    output.close()
    proc.output_path = output.name
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()


def raw_reader(url: str):
    """A plain connection for polling while the engines run (the models' proxy is bound
    to one database at a time; this test has two)."""
    if url.startswith("sqlite:///"):
        con = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        return con, "?"
    import psycopg

    return psycopg.connect(url, autocommit=True), "%s"


def engines_up(reader) -> int:
    con, _ = reader
    q = "SELECT count(*) FROM engine_instance WHERE stopped_at IS NULL"
    return con.execute(q).fetchone()[0]


def slots_after(reader, at: dt.datetime) -> int:
    con, mark = reader
    value = at.isoformat(sep=" ") if isinstance(con, sqlite3.Connection) else at
    q = f"SELECT count(*) FROM schedule_slot WHERE slot_at > {mark}"
    return con.execute(q, (value,)).fetchone()[0]


def check_one_run_per_slot(url: str, both_from: dt.datetime) -> None:
    db = open_database(url)
    try:
        slots = list(ScheduleSlot.select().order_by(ScheduleSlot.slot_at))
        times = [s.slot_at for s in slots]
        first, last = times[0], times[-1]
        expected = int((last - first).total_seconds()) + 1
        assert times == [first + dt.timedelta(seconds=i) for i in range(expected)], url
        window = both_from + dt.timedelta(seconds=SLOTS)
        assert sum(both_from < t <= window for t in times) == SLOTS, url
        runs = list(Run.select(Run.id, Run.trigger_kind))
        assert len(runs) == len(slots), url  # one run per slot, none without its slot
        assert sorted(s.run_id for s in slots) == sorted(r.id for r in runs), url
        assert {r.trigger_kind for r in runs} == {"schedule"}, url
    finally:
        db.close()


@pytest.mark.slow
@pytest.mark.postgres
def test_two_engines_on_sqlite_and_two_on_postgres_run_each_slot_once(
    tmp_path: Path, pg_url: str
) -> None:
    urls = [f"sqlite:///{tmp_path / 'db.sqlite3'}", pg_url]
    for url in urls:
        db = open_database(url, create=True)
        try:
            console = Console(db, actor="ana")
            console.import_workflow(
                scheduled_doc("every-second", tmp_path, cron="* * * * * *", catch_up="all")
            )
            console.enable_workflow("every-second")
        finally:
            db.close()
    # The four engines run at once: 200 one-second slots take 200 s, not 400.
    procs = [engine_process(url, tmp_path, n) for n, url in enumerate(urls * 2)]
    readers = [raw_reader(url) for url in urls]
    try:
        wait_until(
            lambda: all(engines_up(r) == 2 for r in readers), 60, "all four engines to start"
        )
        both_from = utcnow()
        window = both_from + dt.timedelta(seconds=SLOTS)
        wait_until(
            lambda: all(slots_after(r, window) for r in readers),
            SLOTS + 60,
            f"{SLOTS} slots with both engines running on each database",
        )
    finally:
        for proc in procs:
            stop(proc)
        for con, _ in readers:
            con.close()
    for proc in procs:
        assert proc.returncode == 0, Path(proc.output_path).read_text(errors="replace")
    for url in urls:
        check_one_run_per_slot(url, both_from)
