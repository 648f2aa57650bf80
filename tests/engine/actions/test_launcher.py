"""A command started by the engine dies with it (Linux parent-death signal)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sophmate_desktop.engine.actions.launcher import dies_with_parent

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
