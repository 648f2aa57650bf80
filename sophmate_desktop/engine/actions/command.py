"""run_command: an argv list run without a shell, killable by a kill switch.

The process starts in its own session (process group), so a cancel or a timeout
kills the command and everything it started; it dies with the engine (a parent-death
signal, launcher.py) and its group is recorded for the next engine to kill. Secrets
reach it through env or stdin (never argv: every user can read /proc/PID/cmdline);
they are tokens in the plan, substituted only when the process starts; output is masked.
"""

from __future__ import annotations

import contextlib
import os
import select
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sophmate_desktop.domain.enums import EffectKind
from sophmate_desktop.domain.templates import mask_values, secret_names
from sophmate_desktop.domain.workflow import StepSpec
from sophmate_desktop.engine.actions._common import SecretLookup, field_error, render_text
from sophmate_desktop.engine.actions.base import (
    ActionError,
    ApplyContext,
    ApplyResult,
    Cancelled,
    PlanContext,
    PlannedWrite,
)
from sophmate_desktop.engine.actions.launcher import popen as launch

TAIL_BYTES = 4096
STDOUT_IN_ERROR = 500  # characters of stdout a failure message carries (stderr: its tail)
POLL_S = 0.02
CANCEL_CHECK_S = 0.1
KILLED_GRACE_S = 0.5
_TERM_GRACE_S = 0.2
_POSIX = os.name == "posix"


class _Tail(threading.Thread):
    """Drains one pipe, keeping its last TAIL_BYTES (a full pipe would block the child)."""

    def __init__(self, stream: Any) -> None:
        super().__init__(daemon=True, name="run_command-output")
        self.stream = stream
        self.data = bytearray()
        self.total = 0

    def run(self) -> None:
        fd = self.stream.fileno()
        try:
            while chunk := os.read(fd, 65536):
                self.total += len(chunk)
                self.data += chunk
                if len(self.data) > TAIL_BYTES:
                    del self.data[: len(self.data) - TAIL_BYTES]
        except OSError:
            pass

    def text(self, masked: Callable[[str], str], masked_cut: Callable[[str], str]) -> str:
        """The kept tail, secrets masked; where the front was cut off, a piece of a
        secret's form left at the cut is masked too (`masked_cut`)."""
        if self.total <= TAIL_BYTES:
            return masked(bytes(self.data).decode("utf-8", "replace"))
        data = bytes(self.data).lstrip(bytes(range(0x80, 0xC0)))  # a character cut in two
        return "..." + masked_cut(data.decode("utf-8", "replace"))


class _Feed(threading.Thread):
    """Writes a command's standard input and closes it (a thread: a child that reads
    slowly would block the writer on a full pipe)."""

    def __init__(self, stream: Any, data: bytes) -> None:
        super().__init__(daemon=True, name="run_command-input")
        self.stream = stream
        self.data = data

    def run(self) -> None:
        try:
            self.stream.write(self.data)
        except OSError:  # the child exited without reading it all
            pass
        finally:
            with contextlib.suppress(OSError):
                self.stream.close()


def _kill_group(proc: subprocess.Popen[bytes], grace_s: float = _TERM_GRACE_S) -> None:
    """Stop the process and every process in its group: TERM, a short grace, KILL."""
    if not _POSIX:
        proc.kill()
        proc.wait()
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + grace_s
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    _kill_stragglers(proc)
    proc.wait()


def _kill_stragglers(proc: subprocess.Popen[bytes]) -> None:
    if _POSIX:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class _ExitWaiter:
    """Sleeps until the process exits (a Linux pidfd), waking every CANCEL_CHECK_S to
    look at the cancel flag; elsewhere polls every POLL_S. A hundred commands polled
    50 times a second kept a hundred threads fighting over the GIL just when a kill
    switch needed it. (The engine kills a command's process when it cancels it, which
    wakes this at once.)"""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.fd: int | None = None
        with contextlib.suppress(AttributeError, OSError):
            self.fd = os.pidfd_open(proc.pid)  # type: ignore[attr-defined]

    def wait(self, cancelled: threading.Event, timeout: float) -> None:
        if self.fd is None:
            cancelled.wait(min(POLL_S, timeout))
            return
        ready, _, _ = select.select([self.fd], [], [], min(CANCEL_CHECK_S, timeout))
        if ready:
            time.sleep(0.001)  # exited: poll() reaps it, unless another thread is reaping

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _check_arg(i: int, arg: str) -> None:
    if "\x00" in arg:
        raise field_error(f"argv[{i}]", "contains a NUL character")
    if secret_names(arg):  # a workflow stored before the schema refused it
        raise field_error(
            f"argv[{i}]",
            "a secret in argv is visible to every user (/proc/PID/cmdline): "
            "pass it in env or stdin",
        )


def _seconds(value: float) -> str:
    return f"{value:g} s"


class RunCommand:
    name = "run_command"
    effect = EffectKind.COMMAND
    idempotent = False

    def plan(self, step: StepSpec, ctx: PlanContext) -> list[PlannedWrite]:
        variables = ctx.template_context()
        params = step.params
        argv_spec = params.get("argv")
        if not isinstance(argv_spec, list) or not argv_spec:
            raise field_error("argv", "a non-empty list of arguments is required (no shell)")
        argv = [render_text(a, variables, f"argv[{i}]") for i, a in enumerate(argv_spec)]
        if not argv[0].strip():
            raise field_error("argv[0]", "the program is empty after rendering")
        for i, arg in enumerate(argv):
            _check_arg(i, arg)
        cwd = None
        if params.get("cwd") is not None:
            cwd = render_text(params["cwd"], variables, "cwd")
        env_spec = params.get("env") or {}
        if not isinstance(env_spec, Mapping):
            raise field_error("env", "expected a mapping of variable names to text")
        env = {str(k): render_text(v, variables, f"env.{k}") for k, v in env_spec.items()}
        stdin = None
        if params.get("stdin") is not None:
            stdin = render_text(params["stdin"], variables, "stdin")
        timeout = float(params.get("timeout_s", 60))
        command = shlex.join(argv)
        lines = [command]
        if cwd:
            lines.append(f"in {cwd}")
        lines += [f"with {k}={v}" for k, v in env.items()]
        if stdin is not None:
            lines.append(f"standard input: {stdin}")
        lines.append(f"timeout {_seconds(timeout)}")
        return [
            PlannedWrite(
                kind=self.name,
                effect=self.effect,
                target=command if len(command) <= 200 else command[:197] + "...",
                summary=f"run {os.path.basename(argv[0])}",
                preview="\n".join(lines),
                payload={
                    "argv": argv,
                    "cwd": cwd,
                    "env": env,
                    "stdin": stdin,
                    "timeout_s": timeout,
                },
                customer_facing=step.customer_facing,
            )
        ]

    def apply(self, payload: dict[str, Any], ctx: ApplyContext) -> ApplyResult:
        ctx.check()
        secrets = SecretLookup(ctx)
        argv = [secrets.substitute(a) for a in payload["argv"]]
        cwd = secrets.substitute(payload["cwd"]) if payload.get("cwd") else None
        env = dict(os.environ)
        env.update({k: secrets.substitute(v) for k, v in (payload.get("env") or {}).items()})
        stdin = payload.get("stdin")
        data = None if stdin is None else secrets.substitute(stdin).encode("utf-8")
        timeout = float(payload.get("timeout_s", 60))
        shown = shlex.join(payload["argv"])

        def masked(text: str) -> str:
            return mask_values(text, secrets.values)

        def masked_cut(text: str) -> str:
            return mask_values(text, secrets.values, cut_start=True)

        proc = _start(argv, cwd, env, shown, masked, piped=data is not None)
        if data is not None:
            _Feed(proc.stdin, data).start()
        out, err = _Tail(proc.stdout), _Tail(proc.stderr)
        out.start()
        err.start()
        exited = _ExitWaiter(proc)
        try:
            ctx.register_process(proc)
            _wait(proc, exited, ctx, timeout, shown, masked)
        finally:
            _clean_up(proc, exited, out, err)
        return _result(
            proc.returncode,
            out.text(masked, masked_cut),
            err.text(masked, masked_cut),
            shown,
            masked,
        )


def _start(
    argv: list[str],
    cwd: str | None,
    env: dict[str, str],
    shown: str,
    masked: Callable[[str], str],
    *,
    piped: bool = False,
) -> subprocess.Popen[bytes]:
    options: dict[str, Any] = {}
    if _POSIX:
        options["start_new_session"] = True
    else:
        options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
    try:
        return launch(
            argv,
            cwd=cwd,
            env=env,
            shell=False,
            stdin=subprocess.PIPE if piped else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            **options,
        )
    except OSError as exc:
        raise ActionError(masked(f"could not start {shown}: {exc.strerror or exc}"))


def _wait(
    proc: subprocess.Popen[bytes],
    exited: _ExitWaiter,
    ctx: ApplyContext,
    timeout: float,
    shown: str,
    masked: Callable[[str], str],
) -> None:
    """Wait for the command to exit; kill it on a kill switch or when it times out."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if ctx.cancelled.is_set():
            _kill_group(proc)
            raise Cancelled("stopped by a kill switch; the command was killed")
        left = deadline - time.monotonic()
        if left <= 0:
            _kill_group(proc)
            raise ActionError(masked(f"{shown}: timed out after {_seconds(timeout)}"))
        exited.wait(ctx.cancelled, left)
    if proc.returncode < 0 and not ctx.cancelled.is_set():
        # Killed by a signal from outside: most likely a kill switch, whose
        # engine kills first, records the write, then says so. Waiting for
        # that (asleep) keeps a hundred killed commands' threads off the GIL
        # while the engine records them.
        ctx.cancelled.wait(KILLED_GRACE_S)
    _kill_stragglers(proc)  # background children would escape every kill switch
    if ctx.cancelled.is_set():
        raise Cancelled("stopped by a kill switch; the command was killed")


def _clean_up(proc: subprocess.Popen[bytes], exited: _ExitWaiter, out: _Tail, err: _Tail) -> None:
    exited.close()
    if proc.poll() is None:  # an unexpected error above: never leave it running
        _kill_group(proc, grace_s=0)
    out.join(1.0)
    err.join(1.0)
    for reader in (out, err):
        if not reader.is_alive():  # a live reader keeps its pipe; it is a daemon
            reader.stream.close()


def _result(
    code: int, stdout: str, stderr: str, shown: str, masked: Callable[[str], str]
) -> ApplyResult:
    if code != 0:
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        # What another operator needs to judge it: the end of both streams, stderr last.
        said = stdout.strip()[-STDOUT_IN_ERROR:]
        said = f" (stdout ends: {said})" if said else ""
        detail = f": {stderr.strip()}" if stderr.strip() else ""
        raise ActionError(masked(f"{shown} {how}{said}{detail}"))
    output = f"exit code 0\nstdout:\n{stdout}"
    if stderr:
        output += f"\nstderr:\n{stderr}"
    return ApplyResult(output=output)
