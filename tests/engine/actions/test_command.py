"""run_command with real subprocesses: no shell, timeouts, exit codes, cancel."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sophmate_desktop.engine.actions import (
    ActionError,
    Cancelled,
    apply_write,
    get_action,
    plan_step,
)
from tests.support.actions import SECRETS, step

PY = sys.executable


def _plan_one(make_plan_ctx, **params: Any):
    (w,) = plan_step(step("run_command", **params), make_plan_ctx(), 0)
    return w


def test_arguments_are_passed_literally_without_a_shell(make_plan_ctx, make_apply_ctx):
    argv = [
        PY,
        "-c",
        "import json, sys; print(json.dumps(sys.argv[1:]))",
        "$(echo hi)",
        "a; rm -rf /tmp/nothing",
        "*",
        "{{ workflow.name }} run",
    ]
    w = _plan_one(make_plan_ctx, argv=argv)
    assert w.preview.splitlines()[0].endswith(
        "'$(echo hi)' 'a; rm -rf /tmp/nothing' '*' 'intake run'"
    )
    result = apply_write(w.kind, w.payload, make_apply_ctx())
    printed = result.output.split("stdout:\n", 1)[1].strip()
    assert json.loads(printed) == ["$(echo hi)", "a; rm -rf /tmp/nothing", "*", "intake run"]
    assert get_action("run_command").idempotent is False


def test_secrets_stay_tokens_in_the_plan_and_are_masked_in_the_output(
    make_plan_ctx, make_apply_ctx
):
    w = _plan_one(
        make_plan_ctx,
        argv=[PY, "-c", "import os, sys; print(os.environ['DB_PASS'], sys.stdin.read())"],
        env={"DB_PASS": "{{ secret['db-pass'] }}"},
        stdin="--token={{ secret['api-token'] }}",
    )
    planned = w.preview + json.dumps(w.payload)
    assert "${secret:db-pass}" in w.preview and "${secret:api-token}" in w.preview
    assert SECRETS["db-pass"] not in planned and SECRETS["api-token"] not in planned
    result = apply_write(w.kind, w.payload, make_apply_ctx())
    assert "•••••• --token=••••••" in result.output
    assert SECRETS["db-pass"] not in result.output
    assert SECRETS["api-token"] not in result.output


def test_a_secret_in_argv_is_refused_when_planned(make_plan_ctx):
    with pytest.raises(ActionError, match=r"argv\[2\].*env or stdin"):
        _plan_one(make_plan_ctx, argv=[PY, "-c", "--token={{ secret['api-token'] }}"])


def test_the_secret_is_in_the_childs_environment_and_input_never_its_cmdline(
    make_plan_ctx, make_apply_ctx, tmp_path: Path
):
    """The child waits on a file: while it runs, its /proc/PID/cmdline is read."""
    go = tmp_path / "go"
    script = (
        "import os, sys, time, pathlib\n"
        "seen = sys.stdin.read()\n"
        f"pathlib.Path({str(tmp_path / 'pid')!r}).write_text(str(os.getpid()))\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.01)\n"
        "print(os.environ['TOKEN'] == seen)\n"
    )
    w = _plan_one(
        make_plan_ctx,
        argv=[PY, "-c", script],
        env={"TOKEN": "{{ secret['api-token'] }}"},
        stdin="{{ secret['api-token'] }}",
    )
    box: list[Any] = []
    thread = threading.Thread(
        target=lambda: box.append(apply_write(w.kind, w.payload, make_apply_ctx()))
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not (tmp_path / "pid").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        pid = int((tmp_path / "pid").read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    finally:
        go.touch()
        thread.join(10)
    assert SECRETS["api-token"].encode() not in cmdline
    assert f"TOKEN={SECRETS['api-token']}".encode() in environ.split(b"\0")
    assert box[0].output.split("stdout:\n", 1)[1].strip() == "True"


def test_cwd_is_used(make_plan_ctx, make_apply_ctx, tmp_path: Path):
    w = _plan_one(
        make_plan_ctx, argv=[PY, "-c", "import os; print(os.getcwd())"], cwd=str(tmp_path)
    )
    assert str(tmp_path) in apply_write(w.kind, w.payload, make_apply_ctx()).output


def test_a_nonzero_exit_fails_with_the_code_and_the_stderr_tail(make_plan_ctx, make_apply_ctx):
    code = "import sys; sys.stderr.write('x' * 9000 + 'bad input on line 3\\n'); sys.exit(3)"
    w = _plan_one(make_plan_ctx, argv=[PY, "-c", code])
    with pytest.raises(ActionError) as info:
        apply_write(w.kind, w.payload, make_apply_ctx())
    message = str(info.value)
    assert "exited with code 3" in message and message.endswith("bad input on line 3")
    assert len(message) < 4096 + 300  # only the tail of stderr


def test_a_long_output_keeps_only_its_tail(make_plan_ctx, make_apply_ctx):
    w = _plan_one(make_plan_ctx, argv=[PY, "-c", "print('a' * 100000 + 'END')"])
    output = apply_write(w.kind, w.payload, make_apply_ctx()).output
    assert output.rstrip().endswith("END") and len(output) < 4096 + 100


def test_a_timeout_kills_the_command(make_plan_ctx, make_apply_ctx):
    # How soon after the timeout it is dead: python -m bench.responsiveness.
    w = _plan_one(make_plan_ctx, argv=[PY, "-c", "import time; time.sleep(30)"], timeout_s=0.3)
    registered: list[Any] = []
    with pytest.raises(ActionError, match=r"timed out after 0\.3 s$"):
        apply_write(w.kind, w.payload, make_apply_ctx(register_process=registered.append))
    [proc] = registered
    assert proc.returncode is not None and proc.returncode < 0  # killed by a signal, reaped


def test_a_missing_program_is_an_action_error(make_plan_ctx, make_apply_ctx, tmp_path):
    w = _plan_one(make_plan_ctx, argv=[str(tmp_path / "no-such-program")])
    with pytest.raises(ActionError, match="could not start"):
        apply_write(w.kind, w.payload, make_apply_ctx())


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for its reaper counts as dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to watch the child")
def test_cancel_kills_the_whole_process_group(make_plan_ctx, make_apply_ctx, tmp_path: Path):
    pid_file = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, pathlib\n"
        "child = subprocess.Popen(['sleep', '300'])\n"
        "pathlib.Path(sys.argv[1]).write_text(str(child.pid))\n"
        "child.wait()\n"
    )
    w = _plan_one(make_plan_ctx, argv=[PY, "-c", script, str(pid_file)])
    cancel = threading.Event()
    registered: list[Any] = []
    outcome: list[BaseException] = []
    ctx = make_apply_ctx(cancelled=cancel, register_process=registered.append)

    def run() -> None:
        try:
            apply_write(w.kind, w.payload, ctx)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 10
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.01)
    child = int(pid_file.read_text())
    assert _alive(child) and len(registered) == 1

    try:
        # How fast the cancel is (worker returned, grandchild dead): bench.responsiveness.
        cancel.set()
        worker.join(30)
        assert not worker.is_alive()
        assert isinstance(outcome[0], Cancelled)
        deadline = time.monotonic() + 10  # long before the grandchild's sleep would end
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not _alive(child), "the sleeping grandchild survived the cancel"
        assert registered[0].returncode is not None
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)


def test_a_cancel_before_start_runs_nothing(make_plan_ctx, make_apply_ctx, tmp_path: Path):
    marker = tmp_path / "ran"
    w = _plan_one(make_plan_ctx, argv=[PY, "-c", f"open({str(marker)!r}, 'w')"])
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        apply_write(w.kind, w.payload, make_apply_ctx(cancelled=cancel))
    assert not marker.exists()


def test_argv_must_be_a_list(make_plan_ctx):
    with pytest.raises(ActionError, match=r"^steps\[0\]\.argv: a non-empty list"):
        plan_step(step("run_command", argv="ls -l"), make_plan_ctx(), 0)
    with pytest.raises(ActionError, match=r"^steps\[0\]\.argv\[1\]: 'nope' is undefined"):
        plan_step(step("run_command", argv=["ls", "{{ nope }}"]), make_plan_ctx(), 0)


def test_environment_additions_reach_the_command(make_plan_ctx, make_apply_ctx):
    w = _plan_one(
        make_plan_ctx,
        argv=[PY, "-c", "import os; print(os.environ['RUN_ID'])"],
        env={"RUN_ID": "{{ run.id }}"},
    )
    assert "RUN_ID=7" in w.preview
    assert "stdout:\n7" in apply_write(w.kind, w.payload, make_apply_ctx()).output
    assert "RUN_ID" not in os.environ


def test_a_failure_names_the_end_of_stdout_too(make_plan_ctx, make_apply_ctx):
    code = (
        "import sys; print('y' * 900 + 'copied 3 of 5'); sys.stderr.write('disk full'); sys.exit(2)"
    )
    w = _plan_one(make_plan_ctx, argv=[PY, "-c", code])
    with pytest.raises(ActionError) as info:
        apply_write(w.kind, w.payload, make_apply_ctx())
    message = str(info.value)
    assert "exited with code 2 (stdout ends: " in message
    assert "copied 3 of 5): disk full" in message
    assert message.count("y") <= 500  # only the end of stdout
