"""Planning can be stopped: a template that never ends is cut by a pause, by the plan
time limit and by the engine's stop, from outside the rendering thread."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from sophmate_desktop.store.models import AuditEvent, Run
from tests.support.engine import wait_until, workflow_doc

RUNAWAY = """\
  - action: write_file
    to: "{{ output.path }}/x.txt"
    content: "{% for a in range(100000) %}{% for b in range(100000) %}{% if a < 0 %}{{ a }}\
{% endif %}{% endfor %}{% endfor %}"
"""


def runaway(console, tmp_path, name="runaway", extra=""):
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    doc = workflow_doc(name, None, out, steps=RUNAWAY, read="none") + extra
    console.import_workflow(doc)
    console.enable_workflow(name)


def rendering(engine, runs=()):
    """One plan renders and every run of `runs` is in flight (a worker may take two
    runs in one batch: the second waits behind the first)."""
    wait_until(
        lambda: (
            engine.executor.guard.rendering() >= 1
            and all(engine.inflight.get("run", r) is not None for r in runs)
        ),
        10,
        "the plan to render",
    )


def test_pause_ends_a_runaway_plan_cancelled(sqlite_db, sconsole, make_engine, tmp_path):
    runaway(sconsole, tmp_path)
    engine = make_engine(sqlite_db, sconsole, watch=False)
    runs = [engine.run_now("runaway") for _ in range(2)]
    rendering(engine, runs)
    sconsole.pause_all("stop everything")
    for run_id in runs:
        assert engine.wait_for_run(run_id, 5) == "cancelled"
        run = Run.get_by_id(run_id)
        assert "paused" in run.error and "stop everything" in run.error, run.error
        assert (
            AuditEvent.select()
            .where(AuditEvent.run == run_id, AuditEvent.action == "run.cancelled")
            .exists()
        )
    assert engine.executor.guard.rendering() == 0
    # the workers are free again: nothing is still burning the CPU
    wait_until(lambda: engine.free_workers() == 2, 5, "both workers free")


def test_time_limit_fails_the_run_naming_it(sqlite_db, sconsole, make_engine, tmp_path):
    runaway(sconsole, tmp_path, extra="plan_timeout_s: 0.5\n")
    engine = make_engine(sqlite_db, sconsole, watch=False)
    started = time.monotonic()
    run_id = engine.run_now("runaway")
    assert engine.wait_for_run(run_id, 10) == "failed"
    assert time.monotonic() - started < 5
    run = Run.get_by_id(run_id)
    assert "0.5 s" in run.error and "plan_timeout_s" in run.error, run.error


def test_the_setting_is_the_default_limit(sqlite_db, sconsole, make_engine, tmp_path):
    runaway(sconsole, tmp_path)
    sconsole.set_plan_timeout(0.4)
    engine = make_engine(sqlite_db, sconsole, watch=False)
    run_id = engine.run_now("runaway")
    assert engine.wait_for_run(run_id, 10) == "failed"
    assert "0.4 s" in Run.get_by_id(run_id).error


def test_stop_requeues_a_runaway_plan_at_once(sqlite_db, sconsole, make_engine, tmp_path):
    runaway(sconsole, tmp_path)
    engine = make_engine(sqlite_db, sconsole, watch=False)
    run_id = engine.run_now("runaway")
    rendering(engine)
    started = time.monotonic()
    engine.stop()
    assert time.monotonic() - started < 3
    assert Run.get_by_id(run_id).status == "queued"
    assert not [t for t in threading.enumerate() if t.name.startswith("sophmate-worker")]


def test_a_normal_plan_is_untouched(sqlite_db, sconsole, make_engine, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    steps = RUNAWAY.replace("range(100000)", "range(3)")
    sconsole.import_workflow(workflow_doc("small", None, out, steps=steps, read="none"))
    sconsole.enable_workflow("small")
    engine = make_engine(sqlite_db, sconsole, watch=False)
    run_id = engine.run_now("small", mode="dry_run")
    assert engine.wait_for_run(run_id, 10) == "succeeded"


@pytest.mark.parametrize("value", ["0", "-1", "3601", "soon"])
def test_plan_timeout_in_the_file_is_checked(sconsole, tmp_path, value):
    from sophmate_desktop.domain.errors import BadInput

    doc = workflow_doc("bad", None, tmp_path, read="none") + f"plan_timeout_s: {value}\n"
    with pytest.raises(BadInput, match="plan_timeout_s"):
        sconsole.import_workflow(doc)


STOP_THEN_PROFILE = """\
import sys, threading, time
from types import SimpleNamespace
from sophmate_desktop.engine.actions.base import Cancelled
from sophmate_desktop.engine.handles import InFlight, InFlightTable
from sophmate_desktop.engine.plan_guard import PlanGuard

table = InFlightTable()
item = table.add(InFlight("run", 1, "w", "c", ()))
guard = PlanGuard(table, lambda ctx: 30.0)
outcome = []

def spin():
    while True:
        pass

def plan():
    try:
        guard.armed(SimpleNamespace(run_id=1), spin)
    except Cancelled:
        outcome.append("cancelled")

thread = threading.Thread(target=plan)
thread.start()
while guard.rendering() == 0:
    time.sleep(0.001)
item.reason = "paused"
item.cancelled.set()
assert guard.stop(item)
thread.join(10)
assert outcome == ["cancelled"], outcome

def entered():
    return 1

sys.setprofile(lambda *args: None)
entered()
sys.setprofile(None)
print("finished")
"""


def test_a_stopped_plan_leaves_the_interpreter_as_it_was(tmp_path):
    """A stop that was delivered is taken back without leaving CPython's pending-
    exception flag set: with it set, the next function entered under sys.setprofile
    (a profiler, a debugger) never returned."""
    script = tmp_path / "stop_then_profile.py"
    script.write_text(STOP_THEN_PROFILE)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "finished"
