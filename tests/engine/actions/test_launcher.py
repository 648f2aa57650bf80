"""A command started by the engine dies with it (Linux parent-death signal)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from sophmate_desktop.engine.actions.launcher import dies_with_parent, popen, supervises

REPO = Path(__file__).resolve().parents[3]
PARENT = """
import sys, time
from sophmate_desktop.engine.actions.launcher import popen
child = popen(["sleep", "60"], start_new_session=True)
print(child.pid, flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not dies_with_parent(), reason="Linux only")
def test_command_dies_when_its_engine_is_killed() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, env=env)
    child = int(parent.stdout.readline())
    os.kill(child, 0)  # running
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
    pytest.fail(f"command {child} still running after its engine was killed")


GROUP_PARENT = """
import sys, os, time
from sophmate_desktop.engine.actions.launcher import popen
env = dict(os.environ, TRIAL_MARK=sys.argv[1])
script = "sleep 60 & sleep 60 & setsid sleep 60 & (setsid sleep 60 &); wait"
child = popen(["sh", "-c", script], start_new_session=True, env=env)
print(child.pid, flush=True)
time.sleep(60)
"""


def _marked(mark: str) -> list[int]:
    from bench.fault_trials.crash_rig import marked_processes

    return marked_processes(mark)


def _sleeping(pids: list[int]) -> int:
    """How many of pids already run `sleep` (a forked shell has not exec'd yet)."""
    count = 0
    for pid in pids:
        try:
            count += Path(f"/proc/{pid}/comm").read_text().strip() == "sleep"
        except OSError:
            continue
    return count


@pytest.mark.skipif(not supervises(), reason="Linux only")
def test_the_whole_group_and_new_sessions_die_when_the_engine_is_killed() -> None:
    mark = uuid.uuid4().hex
    env = dict(os.environ, PYTHONPATH=str(REPO))
    parent = subprocess.Popen(
        [sys.executable, "-c", GROUP_PARENT, mark], stdout=subprocess.PIPE, env=env
    )
    int(parent.stdout.readline())
    deadline = time.monotonic() + 10
    # supervisor, sh, two sleeps in the group, two in new sessions; the subshell of
    # `(setsid sleep 60 &)` lives briefly, so wait for all four sleeps to have exec'd
    while _sleeping(_marked(mark)) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _sleeping(_marked(mark)) == 4
    while len(_marked(mark)) > 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(_marked(mark)) == 6
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 5
    while _marked(mark) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _marked(mark) == []


@pytest.mark.skipif(not supervises(), reason="Linux only")
def test_the_supervisor_passes_exit_codes_signals_input_and_exec_failures() -> None:
    done = popen(
        ["sh", "-c", "cat; exit 3"],
        start_new_session=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert done.communicate(b"fed", timeout=10) == (b"fed", None)
    assert done.returncode == 3
    killed = popen(["sh", "-c", "kill -TERM $$"], start_new_session=True)
    assert killed.wait(10) == -signal.SIGTERM
    with pytest.raises(FileNotFoundError):
        popen(["/nonexistent/program"], start_new_session=True)


@pytest.mark.skipif(not supervises(), reason="Linux only")
def test_the_supervisor_leaves_the_locale_as_the_engine_gave_it() -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    proc = popen(["env"], start_new_session=True, env=env, stdout=subprocess.PIPE)
    out, _ = proc.communicate(timeout=10)
    assert b"LC_CTYPE" not in out
