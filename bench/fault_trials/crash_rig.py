"""A rig for kill -9 trials: a temporary SQLite database with workflows in staging,
real engine processes (`python -m sophmate_desktop --db URL engine`), CLI processes,
a keyring every process shares, and read-only looks at the database (sqlite3) that
never take a write lock. Used by bench/fault_trials/crashes.py and its tests."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring

from bench.fault_trials.trial_keyring import PATH_ENV, PlaintextTrialKeyring

REPO = Path(__file__).resolve().parents[2]
TRIAL_KEYRING = "bench.fault_trials.trial_keyring.PlaintextTrialKeyring"
HEADER = """\
name: {name}
category: crashes
owner: fault-lead
description: A kill -9 fault trial workflow.
trigger: {trigger}
input: {{read: {read}, max_bytes: 10000000}}
output: {{paths: ["{out}"], staging_paths: ["{out}"]}}
steps:
{steps}
approval: {{mode: always}}
retry: {{limit: 0, backoff_s: 0}}
notify: {{on_failure: [tray]}}
pause: {{consecutive_failures: 100}}
rollback: Delete what it wrote.
"""


def wait_for(check: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)


class Rig:
    """One temporary data folder: database, keyring file, folders, engine logs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.db_path = root / "crash.sqlite3"
        self.url = f"sqlite:///{self.db_path}"
        self.out = root / "out"
        self.out.mkdir(parents=True, exist_ok=True)
        self.engines = 0
        self.started: list[subprocess.Popen[str]] = []  # engines, killed by close()
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(root),
            "PYTHONPATH": str(REPO),
            "PYTHON_KEYRING_BACKEND": TRIAL_KEYRING,
            PATH_ENV: str(root / "keyring.json"),
            "SOPHMATE_ALLOW_INSECURE_KEYRING": "1",
        }

    @contextlib.contextmanager
    def keyring(self) -> Iterator[None]:
        """This process on the trial's keyring (for the in-process console)."""
        old_env = {k: os.environ.get(k) for k in (PATH_ENV, "SOPHMATE_ALLOW_INSECURE_KEYRING")}
        os.environ[PATH_ENV] = self.env[PATH_ENV]
        os.environ["SOPHMATE_ALLOW_INSECURE_KEYRING"] = "1"
        previous = keyring.get_keyring()
        keyring.set_keyring(PlaintextTrialKeyring())
        try:
            yield
        finally:
            keyring.set_keyring(previous)
            for k, v in old_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def workflow(self, name: str, steps: str, *, folder: Path | None, read: str,
                 patterns: tuple[str, ...] = ("*.txt",)) -> str:
        if folder is None:
            trigger = "{manual: true}"
        else:
            pats = ", ".join(f'"{p}"' for p in patterns)
            trigger = f'{{folder: "{folder}", patterns: [{pats}], settle_ms: 50}}'
        return HEADER.format(name=name, trigger=trigger, read=read, out=self.out,
                             steps=steps.rstrip("\n"))

    def set_up(self, docs: dict[str, str], samples: dict[str, Path]) -> None:
        """Import each workflow, give it a reviewed dry run on its sample, promote it to
        staging and enable it (in this process; the engine then runs elsewhere)."""
        from sophmate_desktop.console import Console
        from sophmate_desktop.engine.service import Engine
        from sophmate_desktop.store.database import open_database

        with self.keyring():
            db = open_database(self.url)
            try:
                console = Console(db, actor="fault-lead")
                engine = Engine(db, watch=False, workers=1, tick_s=0.05)
                console.events.subscribe(engine.wake)
                engine.start()
                try:
                    for name, doc in docs.items():
                        console.import_workflow(doc)
                        run_id = engine.run_now(name, samples[name], mode="dry_run")
                        status = engine.wait_for_run(run_id, 60)
                        if status != "succeeded":
                            raise RuntimeError(f"dry run of {name}: {status}")
                        console.record_review(name, "first_run")
                        console.promote(name, "staging")
                        console.enable_workflow(name)
                finally:
                    engine.stop()
            finally:
                db.close()

    # Processes --------------------------------------------------------------

    def start_engine(self) -> subprocess.Popen[str]:
        """An engine process, returned once it runs (its recovery is done by then)."""
        self.engines += 1
        log = self.root / f"engine-{self.engines}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "sophmate_desktop", "--db", self.url, "--actor", "engine",
             "engine", "--log-file", str(log)],
            cwd=str(REPO), env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )
        self.started.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "engine running" not in line:
            proc.kill()
            rest = proc.stdout.read()
            raise RuntimeError(f"the engine did not start: {line}{rest}")
        return proc

    def cli(self, *args: str, actor: str = "approver") -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "sophmate_desktop", "--db", self.url, "--actor", actor,
             *args],
            cwd=str(REPO), env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )

    def run_cli(self, *args: str, actor: str = "approver", timeout: float = 120) -> tuple[
            int, str]:
        proc = self.cli(*args, actor=actor)
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out + err

    def close(self) -> None:
        """Kill the engines still running (a trial that failed half-way)."""
        for proc in self.started:
            if proc.poll() is None:
                self.kill9(proc)

    @staticmethod
    def kill9(proc: subprocess.Popen[str]) -> None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        if proc.stdout is not None:
            proc.stdout.close()

    @staticmethod
    def stop(proc: subprocess.Popen[str], timeout: float = 30) -> int:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
        return code

    # Looks at the database (read-only, no lock held) ----------------------

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        con = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def count(self, sql: str, args: tuple = ()) -> int:
        return int(self.query(sql, args)[0][0])

    def statuses(self, table: str) -> dict[str, int]:
        return dict(self.query(f"SELECT status, COUNT(*) FROM {table} GROUP BY status"))

    def settled(self) -> bool:
        """Nothing queued, running, approved or applying."""
        runs = self.count("SELECT COUNT(*) FROM run WHERE status IN ('queued', 'running')")
        writes = self.count("SELECT COUNT(*) FROM write WHERE status IN ('approved', 'applying')")
        return runs == 0 and writes == 0

    def temp_files(self) -> list[Path]:
        return sorted(self.out.rglob("*.sophmate-tmp"))


def marked_processes(mark: str) -> list[int]:
    """Pids whose environment holds TRIAL_MARK=mark (a scan of /proc)."""
    needle = f"TRIAL_MARK={mark}".encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(name))
        except OSError:
            continue
    return found
