"""Starting commands so that they, and all they started, die with the engine.

On Linux a command in its own session (`start_new_session`) runs under a tiny
supervisor (supervisor.py, a Python process of the standard library only, ~10 MB)
that leads the session: when the engine dies, the supervisor ends the command's whole
process group and every descendant (a subreaper: even those that left for a new
session), within its grace (0.2 s), without waiting for the next engine. Without it
a parent-death signal reaches the command only, and its children were left running.

The supervisor gets a parent-death signal (PR_SET_PDEATHSIG, SIGTERM; other
commands SIGKILL) set in the child before exec. The kernel sends it when the
*thread* that forked the child exits, not the process. That thread is the one
applying the write, and run_command never returns before its process has exited
and been reaped (a cancel, a timeout or an error kill and wait for it), so the
forking thread outlives the command by construction; only the engine's death (the
process and every thread) fires the signal early. A child whose parent died before
the signal was set (the race between fork and prctl) sees a new parent pid and
exits. Elsewhere (or in a frozen build) commands start as before, and the next
engine kills the group a dead one left (engine/lifeline.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

PR_SET_PDEATHSIG = 1
_LINUX = sys.platform.startswith("linux")
SUPERVISOR = Path(__file__).with_name("supervisor.py")
NO_LC_CTYPE = "-"  # as supervisor.NO_LC_CTYPE (that script imports nothing of ours)


def _prctl() -> Any:
    if not _LINUX:
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl()


def _die_with(parent: int, sig: int = signal.SIGKILL):
    prctl = _PRCTL

    def in_child() -> None:
        prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
        if os.getppid() != parent:  # the engine died before the signal was set
            os._exit(137)

    return in_child


def popen(argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """subprocess.Popen, with the child bound to die with this process (Linux); a
    command in a new session runs under the supervisor, which ends its whole group."""
    if _PRCTL is None:
        return subprocess.Popen(argv, **kwargs)
    if kwargs.get("start_new_session") and supervises():
        return _supervised(argv, kwargs)
    kwargs["preexec_fn"] = _die_with(os.getpid())
    return subprocess.Popen(argv, **kwargs)


def _supervised(argv: list[str], kwargs: dict[str, Any]) -> subprocess.Popen[bytes]:
    env = kwargs.get("env")
    env = dict(os.environ if env is None else env)
    kwargs["env"] = env
    # Python's locale coercion may set LC_CTYPE in the supervisor: it restores this
    lc_ctype = env.get("LC_CTYPE", NO_LC_CTYPE)
    read_end, write_end = os.pipe()
    kwargs["pass_fds"] = (*kwargs.get("pass_fds", ()), write_end)
    kwargs["preexec_fn"] = _die_with(os.getpid(), signal.SIGTERM)
    wrapper = [sys.executable, "-I", "-S", str(SUPERVISOR), str(write_end), lc_ctype, "--"]
    try:
        try:
            proc = subprocess.Popen([*wrapper, *argv], **kwargs)
        finally:
            os.close(write_end)
        with os.fdopen(read_end, "rb") as status:
            read_end = -1
            failed = status.read()  # EOF once the command was exec'd (close-on-exec)
    finally:
        if read_end >= 0:
            os.close(read_end)
    if failed:
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        code = int(failed)
        raise OSError(code, os.strerror(code), argv[0])
    return proc


def supervises() -> bool:
    """Whether commands in a new session run under the supervisor: Linux, from a
    Python that can run a script (not a frozen build)."""
    return _PRCTL is not None and not getattr(sys, "frozen", False) and SUPERVISOR.is_file()


def dies_with_parent() -> bool:
    return _PRCTL is not None
