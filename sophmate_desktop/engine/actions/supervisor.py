"""The tiny process between the engine and a command (Linux), so that nothing a command
started outlives the engine.

    python -I -S supervisor.py STATUS_FD LC_CTYPE_MARK -- ARGV...

The engine starts this script as the leader of a new session with a parent-death
signal (SIGTERM). It makes itself a child subreaper (so what the command's children
leave behind when they exit, even in a new session, becomes its child), runs the
command, and exits with the command's status (a death by a signal is mirrored). On
SIGTERM (the engine died, or a cancel sent it to the group) and when the command
exits, it ends every process of its group and every descendant: SIGTERM, a short
grace, then SIGKILL until none is left. The command itself also gets a parent-death
signal (SIGKILL), so it dies even when this supervisor is killed with SIGKILL.

A failed exec is reported through STATUS_FD (close-on-exec: its EOF means the
command started) as the errno, so the engine raises the same OSError that
subprocess.Popen would. Standard library only, no package import: it starts fast.
"""

from __future__ import annotations

import _signal as signal  # the C module: `signal` imports enum, ~10 ms of each start
import ctypes
import os
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
GRACE_S = 0.2
NO_LC_CTYPE = "-"  # LC_CTYPE_MARK when the engine's environment for it had none

_stopping = False
_statuses: dict[int, int] = {}  # wait statuses of the children reaped, by pid


def _prctl():
    # the symbols already loaded (libc among them): find_library would run ldconfig
    return ctypes.CDLL(None, use_errno=True).prctl


def _family(me: int) -> set[int]:
    """Pids in my process group or descending from me (myself excluded)."""
    parent: dict[int, int] = {}
    found: set[int] = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        try:
            pid, ppid, pgrp = int(name), int(fields[1]), int(fields[2])
        except (IndexError, ValueError):
            continue
        parent[pid] = ppid
        if pgrp == me:
            found.add(pid)
    for pid in parent:
        seen, p = [], pid
        while p in parent and p != me and p not in seen and p > 1:
            seen.append(p)
            p = parent[p]
        if p == me:
            found.update(seen)
    found.discard(me)
    return found


def _reap() -> None:
    """Collect exited children (orphans handed to this subreaper included)."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _statuses[pid] = status


def _end_family(me: int) -> None:
    """SIGTERM to all, a grace, then SIGKILL until nobody is left."""
    for pid in _family(me):
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    while time.monotonic() < deadline:
        _reap()
        if not _family(me):
            return
        time.sleep(0.01)
    for _ in range(50):  # a fork racing the scan is caught by the next round
        family = _family(me)
        if not family:
            return
        for pid in family:
            _signal(pid, signal.SIGKILL)
        _reap()
        time.sleep(0.005)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _on_term(signum, frame) -> None:
    global _stopping
    if not _stopping:
        _stopping = True
        _end_family(os.getpid())


def _exec_child(argv: list[str], status_fd: int, env: dict[str, str], prctl, me: int) -> None:
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != me:
            os._exit(137)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        os.execvpe(argv[0], argv, env)
    except OSError as exc:
        os.write(status_fd, str(exc.errno or 0).encode())
    finally:
        os._exit(127)


def main(args: list[str]) -> int:
    status_fd, lc_ctype, sep, *argv = args
    status_fd = int(status_fd)
    if sep != "--" or not argv:
        print("usage: supervisor.py STATUS_FD LC_CTYPE_MARK -- ARGV...", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _on_term)
    prctl = _prctl()
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    env = dict(os.environ)  # as the engine gave it, but for Python's locale coercion
    if lc_ctype == NO_LC_CTYPE:
        env.pop("LC_CTYPE", None)
    else:
        env["LC_CTYPE"] = lc_ctype
    os.set_inheritable(status_fd, False)
    me = os.getpid()
    # blocked across the fork: the child must not run this process's handler
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    child = os.fork()
    if child == 0:
        _exec_child(argv, status_fd, env, prctl, me)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    os.close(status_fd)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    while child not in _statuses:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:  # reaped by the SIGTERM handler
            break
        _statuses[pid] = status
    _end_family(me)
    status = _statuses.get(child, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(sig, signal.SIG_DFL)
        os.kill(me, sig)
        return 128 + sig
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
