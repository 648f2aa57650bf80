"""Commands never outlive their engine unseen.

Each command's process group is recorded in the database when it starts (with its
pid's start time) and forgotten once it has ended. The command itself dies with the
engine (a parent-death signal, engine/actions/launcher.py); what it started in its
group is killed by the next engine: `kill_left_behind` sends SIGTERM, then SIGKILL,
to every group a dead instance left, but only when the group is provably the same
one (the leader alive with the recorded start time, or gone while members of its
group remain, whose number the kernel cannot hand out again) so that a reused pid is
never killed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from typing import Any

from peewee import Database

from sophmate_desktop.engine.handles import InFlight
from sophmate_desktop.store import instances

log = logging.getLogger(__name__)

TERM_GRACE_S = 2.0


class Lifeline:
    """Records the commands this engine starts; forgets them when they end."""

    def __init__(self, db: Database, instance_id: str) -> None:
        self.db = db
        self.instance_id = instance_id
        self._lock = threading.Lock()
        self._running: dict[int, Any] = {}  # row id -> Popen

    def started(self, item: InFlight, proc: Any) -> None:
        """On the applier thread, as the command starts (before anything waits on it)."""
        try:
            pgid = os.getpgid(proc.pid)
        except (OSError, AttributeError):
            pgid = proc.pid
        try:
            row = instances.record_process(
                self.db, self.instance_id, item.id if item.kind == "write" else None, proc.pid, pgid
            )
        except Exception:
            log.exception("could not record the process of write %s", item.id)
            return
        with self._lock:
            self._running[row] = proc

    def sweep(self) -> int:
        """On the monitor: forget the processes that have ended (one statement)."""
        with self._lock:
            ended = [row for row, proc in self._running.items() if proc.returncode is not None]
            for row in ended:
                del self._running[row]
        if ended:
            try:
                instances.forget_processes(self.db, ended)
            except Exception:
                with self._lock:  # tried again on the next sweep
                    self._running.update({row: _Ended() for row in ended})
                raise
        return len(ended)


class _Ended:
    returncode = 0


def _pgid_members(pgid: int) -> list[int] | None:
    """Pids whose process group is `pgid` (None where /proc cannot tell)."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    members = []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        with contextlib.suppress(IndexError, ValueError):
            if int(fields[2]) == pgid:  # field 5, pgrp
                members.append(int(name))
    return members


def _ours(pid: int, pgid: int, recorded_start: int | None) -> bool:
    """Whether group `pgid` is still the one recorded (never a reused pid)."""
    members = _pgid_members(pgid)
    if not members:
        return False
    if instances.pid_alive(pgid):
        start = instances.pid_start_time(pgid)
        return recorded_start is not None and start == recorded_start
    # The leader is gone but its group has members: while a group exists its number
    # is not given to a new process, so these are the command's own children.
    return True


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + TERM_GRACE_S
    while time.monotonic() < deadline and _pgid_members(pgid):
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def kill_left_behind(db: Database, dead: set[str]) -> dict[int, str]:
    """Kill the command groups dead instances left running; forget their rows.
    Returns, by write id, what was done (for the write's interrupted reason)."""
    notes: dict[int, str] = {}
    rows = instances.processes_of(db, dead)
    for row in rows:
        if _ours(row.pid, row.pgid, row.pid_start):
            _kill_group(row.pgid)
            log.warning("killed the command group %s that a dead engine left", row.pgid)
            note = f"its command's process group {row.pgid} was still running and was killed"
        else:
            note = f"its command (pid {row.pid}) had ended"
        if row.write is not None:
            notes[row.write] = note
    instances.forget_processes(db, [row.id for row in rows])
    return notes
