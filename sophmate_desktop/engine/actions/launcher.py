"""Starting commands so that they die with the engine.

On Linux each command gets a parent-death signal (PR_SET_PDEATHSIG, SIGKILL) set in
the child before exec. The kernel sends it when the *thread* that forked the child
exits, not the process. That thread is the one applying the write, and run_command
never returns before its process has exited and been reaped (a cancel, a timeout
or an error kill and wait for it), so the forking thread outlives the command by
construction; only the engine's death (the process and every thread) fires the
signal early. A child whose parent died before the signal was set (the race
between fork and prctl) sees a new parent pid and exits. Elsewhere commands start
as before (the next engine kills what a dead one left: engine/lifeline.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
from typing import Any

PR_SET_PDEATHSIG = 1
_LINUX = sys.platform.startswith("linux")


def _prctl() -> Any:
    if not _LINUX:
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl()


def _die_with(parent: int):
    prctl = _PRCTL

    def in_child() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the engine died before the signal was set
            os._exit(137)

    return in_child


def popen(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
    """subprocess.Popen, with the child bound to die with this process (Linux)."""
    if _PRCTL is not None:
        kwargs["preexec_fn"] = _die_with(os.getpid())
    return subprocess.Popen(*args, **kwargs)


def dies_with_parent() -> bool:
    return _PRCTL is not None
