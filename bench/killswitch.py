"""Benchmark of the category kill switch against commands that are running.

    python -m bench.killswitch [--trials N] [--inflight N] [--workflow] [--quick] [--json]

Each trial: a manual staging run of a workflow whose one step is run_command
`python -c "import time; time.sleep(60)"`; its writes are approved with
console.approve and the engine's applier starts the commands. Once --inflight
commands run, the category is paused and the clock runs from the moment the pause
has committed until every command process is dead and no write is 'applying': the
later of the last process exit (waited for with pidfds) and the engine's last
"write.finished" event (published after the commit; a raw query confirms it).
In process: from console.pause_category returning (the engine is woken by the
console's event, as in the CLI engine). From the CLI: from the exit of
`python -m sophmate_desktop --db URL category pause NAME --reason x`; the engine
sees that pause on its next monitor tick. Writes applied after the pause are counted
from the audit log: write.applying events with an id above the category.paused event.
With --workflow the switch is the workflow's own (`workflow pause NAME`) instead.

The engine applies writes on its applier thread(s): with Engine(appliers=1) only one
command can be in flight, so --inflight above the number of appliers is refused.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import select
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import report
from bench.trigger import inmemory_keyring, log, summary
from sophmate_desktop.console import Console
from sophmate_desktop.domain.events import Event
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import AuditEvent, Write

REPO = Path(__file__).resolve().parent.parent
CATEGORY = "kill-bench"
NAME = "sleeper"
GOAL_INPROCESS_MS = 100.0
SWITCH = ["category", CATEGORY]  # or ["workflow", NAME] with --workflow
GOAL_CLI_MS = 1000.0
SLEEP = "import time; time.sleep(60)"
APPLYING_SQL = 'SELECT 1 FROM "write" WHERE "status" = \'applying\' LIMIT 1'

WORKFLOW = """\
name: {name}
category: {category}
owner: bench-owner
description: Runs a command that sleeps, to be killed by a pause.
trigger: {{manual: true}}
input: {{read: none}}
output: {{paths: ["{out}"], staging_paths: ["{out}"]}}
steps:
{steps}
approval: {{mode: always}}
retry: {{limit: 0, backoff_s: 1}}
notify: {{on_failure: [tray]}}
pause: {{consecutive_failures: 100}}
rollback: Nothing to undo; the command only sleeps.
"""

STEP = """\
  - action: run_command
    argv: {argv}
    timeout_s: 120
"""

APPLIERS = "appliers" in inspect.signature(Engine.__init__).parameters


@dataclass
class Trial:
    kill_ms: float  # until every process is dead and no write is 'applying'
    dead_ms: float  # until every process is dead
    applied_after_pause: int


def workflow(out: Path, commands: int) -> str:
    argv = json.dumps([sys.executable, "-c", SLEEP])
    return WORKFLOW.format(
        name=NAME, category=CATEGORY, out=out, steps="".join(STEP.format(argv=argv) * commands)
    )


class Finished:
    """When the engine announced each write's end (perf_counter, by write id)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.at: dict[int, float] = {}

    def __call__(self, event: Event) -> None:
        if event.kind == "write.finished":
            now = time.perf_counter()
            with self.cond:
                self.at[event.data["write"]] = now
                self.cond.notify_all()


class ExitWatch:
    """Waits until every process has exited, asleep in the kernel (Linux pidfds), so
    that the waiting does not take the GIL from the engine it measures. A process
    counts as dead once it has exited, reaped or not. Elsewhere: polls."""

    def __init__(self, procs: list) -> None:
        self.procs = procs
        self.fds: dict[int, int] = {}
        if hasattr(os, "pidfd_open"):
            for proc in procs:
                try:
                    self.fds[os.pidfd_open(proc.pid)] = proc.pid
                except ProcessLookupError:
                    pass  # gone already

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not hasattr(os, "pidfd_open"):
            while any(p.poll() is None for p in self.procs):
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.001)
            return True
        poller = select.poll()
        for fd in self.fds:
            poller.register(fd, select.POLLIN)
        waiting = set(self.fds)
        while waiting:
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0:
                return False
            for fd, _ in poller.poll(left_ms):
                poller.unregister(fd)
                waiting.discard(fd)
        return True

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds.clear()


class Bench:
    def __init__(self, root: Path, inflight: int) -> None:
        self.root = root
        self.inflight = inflight
        self.url = f"sqlite:///{root / 'db.sqlite3'}"
        self.db = open_database(self.url)
        self.console = Console(self.db, actor="bench")
        (root / "out").mkdir()
        self.console.import_workflow(workflow(root / "out", inflight))
        self.console.enable_workflow(NAME)
        kwargs = {"appliers": inflight} if APPLIERS else {}
        self.engine = Engine(self.db, workers=1, **kwargs)
        self.finished = Finished()
        self.engine.events.subscribe(self.finished)
        self.console.events.subscribe(self.engine.wake)
        self.engine.start()
        self.raw = sqlite3.connect(str(root / "db.sqlite3"), isolation_level=None)

    def close(self) -> None:
        self.engine.stop()
        self.raw.close()
        self.db.close()

    def _start_commands(self) -> tuple[list, set[int]]:
        run_id = self.engine.run_now(NAME, mode="staging", actor="bench")
        status = self.engine.wait_for_run(run_id)
        if status != "awaiting_approval":
            raise RuntimeError(f"run {run_id} is {status}, expected awaiting_approval")
        ids = [w.id for w in Write.select(Write.id).where(Write.run == run_id)]
        self.console.approve(ids)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            items = [i for i in self.engine.inflight.snapshot() if i.kind == "write"]
            procs = [p for item in items for p in item.processes]
            if len(procs) >= self.inflight:
                return procs, {item.id for item in items}
            time.sleep(0.002)
        raise TimeoutError(f"{self.inflight} commands did not start")

    def _wait_killed(self, exits: ExitWatch, writes: set[int], t0: float) -> tuple[float, float]:
        # Measuring must not slow the engine down (same process, same GIL): the exits
        # are waited for in the kernel, and the end of each write is the moment the
        # engine announces it ("write.finished", published once it has committed), as
        # bench.trigger times "run.started". A raw query then confirms that no write is
        # left applying.
        if not exits.wait(30):
            raise TimeoutError("commands still running 30 s after the pause")
        dead_ms = (time.perf_counter() - t0) * 1000
        with self.finished.cond:
            if not self.finished.cond.wait_for(lambda: writes <= self.finished.at.keys(), 30):
                raise TimeoutError("writes still applying 30 s after the pause")
            ended = max(self.finished.at[w] for w in writes)
        if self.raw.execute(APPLYING_SQL).fetchone() is not None:
            raise AssertionError("a write announced as finished is still applying")
        return max(dead_ms, (ended - t0) * 1000), dead_ms

    def _applied_after_pause(self) -> int:
        paused = (
            AuditEvent.select(AuditEvent.id)
            .where(AuditEvent.action == f"{SWITCH[0]}.paused")
            .order_by(AuditEvent.id.desc())
            .first()
        )
        return (
            AuditEvent.select()
            .where(AuditEvent.action == "write.applying", AuditEvent.id > paused.id)
            .count()
        )

    def trial(self, cli: bool) -> Trial:
        procs, writes = self._start_commands()
        exits = ExitWatch(procs)
        if cli:
            env = dict(os.environ)
            env["PYTHONPATH"] = str(REPO)
            env["PYTHON_KEYRING_BACKEND"] = "tests.support.inmemory_keyring.InMemoryKeyring"
            cmd = [sys.executable, "-m", "sophmate_desktop", "--db", self.url]
            cmd += [SWITCH[0], "pause", SWITCH[1], "--reason", "bench"]
            subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
            t0 = time.perf_counter()
        else:
            getattr(self.console, f"pause_{SWITCH[0]}")(SWITCH[1], "bench")
            t0 = time.perf_counter()
        try:
            kill_ms, dead_ms = self._wait_killed(exits, writes, t0)
        finally:
            exits.close()
        self.engine.wait_idle(timeout=30)
        after = self._applied_after_pause()
        getattr(self.console, f"resume_{SWITCH[0]}")(SWITCH[1], "bench done")
        return Trial(kill_ms, dead_ms, after)


@dataclass
class Figures:
    trials: int
    inflight: int
    appliers_option: bool
    inprocess: list[Trial]
    cli: list[Trial]

    def stats(self, trials: list[Trial]) -> dict[str, float]:
        return summary([t.kill_ms for t in trials])

    def checks(self) -> list[tuple[str, str, str, bool]]:
        ip, cl = self.stats(self.inprocess), self.stats(self.cli)
        after = sum(t.applied_after_pause for t in self.inprocess + self.cli)
        return [
            ("kill p99, pause in process", f"{ip['p99']:.1f} ms", f"<= {GOAL_INPROCESS_MS:g} ms",
             ip["p99"] <= GOAL_INPROCESS_MS),
            ("kill p99, pause from the CLI", f"{cl['p99']:.1f} ms", f"<= {GOAL_CLI_MS:g} ms",
             cl["p99"] <= GOAL_CLI_MS),
            ("writes applied after the pause", f"{after}", "0", after == 0),
        ]  # fmt: skip


def run(trials: int, inflight: int) -> Figures:
    if inflight > 1 and not APPLIERS:
        raise SystemExit(
            "this engine has one applier thread: only 1 command can be in flight (--inflight 1)"
        )
    with inmemory_keyring(), tempfile.TemporaryDirectory(prefix="sophmate-bench-") as t:
        bench = Bench(Path(t), inflight)
        try:
            results: dict[bool, list[Trial]] = {False: [], True: []}
            for cli in (False, True):
                log(f"{trials} trials, pause {'from the CLI' if cli else 'in process'}")
                for _ in range(trials):
                    results[cli].append(bench.trial(cli))
        finally:
            bench.close()
        return Figures(trials, inflight, APPLIERS, results[False], results[True])


def table(f: Figures) -> str:
    lines = [
        f"kill switch benchmark ({SWITCH[0]} {SWITCH[1]}): {f.trials} trials each, "
        f"{f.inflight} command(s) in flight per trial (sleeping python processes)",
    ]
    if f.inflight == 1:
        lines.append(
            "note: one applier thread applies one write at a time, so each trial kills one "
            "running command"
        )
    lines += [
        "",
        f"{'from the pause (ms)':<38} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}",
    ]
    for name, trials in (("in process", f.inprocess), ("from the CLI", f.cli)):
        for what, values in (
            (": dead, none applying", [t.kill_ms for t in trials]),
            (": processes dead", [t.dead_ms for t in trials]),
        ):
            s = summary(values)
            lines.append(
                f"{name + what:<38} {s['p50']:>8.1f} {s['p95']:>8.1f} {s['p99']:>8.1f} "
                f"{s['max']:>8.1f}"
            )
    lines += ["", f"{'goal':<34} {'measured':>10} {'target':>12}  result"]
    for name, value, target, ok in f.checks():
        lines.append(f"{name:<34} {value:>10} {target:>12}  {'PASS' if ok else 'FAIL'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--trials", type=int, default=20, help="trials per pause kind (20)")
    p.add_argument(
        "--inflight",
        type=int,
        default=100 if APPLIERS else 1,
        help="commands in flight per trial (100 with several appliers, else 1)",
    )
    p.add_argument("--workflow", action="store_true", help="pause the workflow, not its category")
    p.add_argument("--quick", action="store_true", help="3 trials, at most 5 in flight")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a = p.parse_args(argv)
    if a.quick:
        a.trials, a.inflight = 3, min(a.inflight, 5)
    if a.workflow:
        SWITCH[:] = ["workflow", NAME]
    f = run(a.trials, a.inflight)
    return report(f, table, a.json, ("goal", "measured", "target", "pass"))


if __name__ == "__main__":
    sys.exit(main())
