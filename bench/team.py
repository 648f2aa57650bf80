"""Benchmark of a team on one PostgreSQL database (issue 13).

    python -m bench.team --db postgresql://USER:PASSWORD@HOST/SCRATCH_DB
        [--trials N] [--engines 2,4] [--writes N] [--takeovers N] [--quick] [--json]

THE DATABASE IS EMPTIED (its public schema is dropped): give it a scratch database.
Default: $SOPHMATE_TEST_PG_URL, the tests' database.

1. Pause propagation: K headless engines (`python -m sophmate_desktop --db URL engine
   --appliers 2`), each its own process, share the database. Each trial queues one
   manual run of a workflow with 2K `run_command` steps (a 60 s sleep), approves its
   writes, waits until every command runs (their pids from `engine_process`, spread
   over the engines that claimed them), pauses the category from this process and
   times, from the pause's commit, the moment the last command process is dead
   (waited for in the kernel with pidfds). Then it resumes and goes on.
2. Decisions: --writes pending writes, four approvers in four processes each deciding
   all of them (each in its own shuffled order, 100 ids per call) at once: decisions
   per second over the wall time, and the errors they saw (the goal: 0; before
   ordered locking, one of four ended in `deadlock detected`).
3. Takeover (bench/team_takeover.py): two engines of the `team-server` pool, each a
   process on a host of its own with a 5 s lease; one is killed (-9) mid-apply; the
   seconds from the kill until the other has taken its writes over (files resumed,
   the request interrupted) and applied the files again, against lease + 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import team_takeover
from bench.common import report, wait_for
from bench.killswitch import STEP, WORKFLOW, ExitWatch
from bench.trigger import inmemory_keyring, log, summary
from sophmate_desktop.console import Console
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import EngineProcess, Write
from sophmate_desktop.store.transitions.intake import Offer, record_batch

REPO = Path(__file__).resolve().parent.parent
CATEGORY = "team-bench"
NAME = "team-sleeper"
PAUSE_GOAL_MS = 150.0  # p99, pause -> every engine's commands killed (issue 13)
DECISIONS_BEFORE = 1905.0  # decisions/s with 4 approvers, 100 ids per call (issue 13)
APPROVERS = ("ana", "bob", "cy", "dee")
KEYRING = "tests.support.inmemory_keyring.InMemoryKeyring"



@dataclass
class Propagation:
    engines: int
    commands: int
    engines_running_commands: list[int] = field(default_factory=list)  # per trial
    kill_ms: list[float] = field(default_factory=list)


@dataclass
class Figures:
    propagation: list[Propagation]
    writes: int
    decisions_per_s: float
    decision_errors: int
    decided_once: bool
    takeover: team_takeover.Takeover

    def checks(self) -> list[tuple[str, str, str, bool]]:
        out = []
        for p in self.propagation:
            s = summary(p.kill_ms)
            out.append((f"pause -> commands killed p99, {p.engines} engines", f"{s['p99']:.1f} ms",
                        f"< {PAUSE_GOAL_MS:g} ms", s["p99"] < PAUSE_GOAL_MS))  # fmt: skip
        out.append(("decision errors, 4 approvers", str(self.decision_errors), "0",
                    self.decision_errors == 0))  # fmt: skip
        out.append(("each write decided once", str(self.decided_once), "True", self.decided_once))
        return out + team_takeover.checks(self.takeover)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "PYTHON_KEYRING_BACKEND": KEYRING}


def _reset(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


class Team:
    def __init__(self, url: str, root: Path, engines: int) -> None:
        _reset(url)
        self.url, self.commands = url, 2 * engines
        self.db = open_database(url)
        (root / "out").mkdir(parents=True, exist_ok=True)
        argv = json.dumps([sys.executable, "-c", "import time; time.sleep(60)"])
        steps = "".join(STEP.format(argv=argv) for _ in range(self.commands))
        lead = Console(self.db, actor="lead")
        lead.import_workflow(WORKFLOW.format(name=NAME, category=CATEGORY, out=root / "out",
                                             steps=steps))  # fmt: skip
        setup = Engine(self.db, workers=1)  # the reviewed dry run staging asks for
        setup.start()
        try:
            dry = setup.run_now(NAME, mode="dry_run", actor="lead")
            if setup.wait_for_run(dry, 60) != "succeeded":
                raise RuntimeError(f"the dry run {dry} did not succeed")
        finally:
            setup.stop()
        lead.record_review(NAME, "first_run")
        lead.promote(NAME, "staging")
        lead.enable_workflow(NAME)
        self.approver = Console(self.db, actor="bob")  # four eyes: not the one who changed it
        cmd = [sys.executable, "-m", "sophmate_desktop", "--db", url, "engine", "--appliers", "2"]
        self.procs = [
            subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for _ in range(engines)
        ]
        wait_for(lambda: self._instances() >= engines, 60, "the engines to start")

    def _instances(self) -> int:
        sql = 'SELECT count(*) FROM "engine_instance" WHERE "stopped_at" IS NULL'
        return self.db.execute_sql(sql).fetchone()[0]

    def trial(self, into: Propagation) -> None:
        [rec] = record_batch(
            self.db, [Offer(workflow=NAME, kind="manual", mode="staging", actor="bench")], "bench"
        )
        ids: list[int] = []

        def planned() -> bool:
            ids[:] = [w.id for w in Write.select(Write.id).where(Write.run == rec.run_id)]
            return len(ids) == self.commands

        wait_for(planned, 30, "the run's writes")
        self.approver.approve(ids)
        rows: list[EngineProcess] = []

        def running() -> bool:
            rows[:] = list(EngineProcess.select().where(EngineProcess.write.in_(ids)))
            return len(rows) == self.commands

        wait_for(running, 30, "every command to run")
        exits = ExitWatch([type("P", (), {"pid": r.pid})() for r in rows])
        try:
            self.approver.pause_category(CATEGORY, "bench")
            t0 = time.perf_counter()
            if not exits.wait(30):
                raise TimeoutError("commands still running 30 s after the pause")
            into.kill_ms.append((time.perf_counter() - t0) * 1000)
        finally:
            exits.close()
        into.engines_running_commands.append(len({r.instance for r in rows}))
        wait_for(lambda: not Write.select().where(Write.status == "applying").exists(), 30,
                   "no write applying")  # fmt: skip
        self.approver.resume_category(CATEGORY, "bench done")

    def close(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        self.db.close()


def decisions(url: str, root: Path, writes: int) -> tuple[float, int, bool]:
    from tests.support.approvers import BULK_APPROVER
    from tests.support.factories import many_writes, workflow_yaml

    _reset(url)
    db = open_database(url)
    try:
        Console(db, actor="lead").import_workflow(workflow_yaml("wf-bulk"))
        ids = many_writes(db, "wf-bulk", writes)
        go = root / "go"
        text = ",".join(map(str, ids))
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", BULK_APPROVER, url, a, text, "100", str(go)],
                stdout=subprocess.PIPE,
                text=True,
                env=_env(),
            )
            for a in APPROVERS
        ]
        wait_for(lambda: all(Path(f"{go}.{a}.ready").exists() for a in APPROVERS), 60,
                   "the approvers")  # fmt: skip
        t0 = time.perf_counter()
        go.write_text("go")
        outs = [json.loads(p.communicate(timeout=600)[0].strip().splitlines()[-1]) for p in procs]
        elapsed = time.perf_counter() - t0
        errors = sum(len(o["errors"]) for o in outs)
        decided = sorted(w for o in outs for w in o["decided"])
        return writes / elapsed, errors, decided == ids
    finally:
        db.close()


def run(
    url: str, trials: int, engine_counts: list[int], writes: int, takeovers: int
) -> Figures:
    props = []
    with tempfile.TemporaryDirectory() as tmp, inmemory_keyring():
        for k in engine_counts:
            log(f"pause propagation: {k} engines, {trials} trials")
            team = Team(url, Path(tmp) / f"team{k}", k)
            prop = Propagation(k, team.commands)
            try:
                for _ in range(trials):
                    team.trial(prop)
            finally:
                team.close()
            props.append(prop)
        log(f"decisions: 4 approvers over {writes:,} writes")
        rate, errors, once = decisions(url, Path(tmp), writes)
        log(f"takeover: 2 pool engines, {takeovers} kills mid-apply")
        taken = team_takeover.run(url, Path(tmp), takeovers, _reset)
    return Figures(props, writes, rate, errors, once, taken)


def table(f: Figures) -> str:
    lines = ["team benchmark: engines in separate processes on one PostgreSQL database", ""]
    for p in f.propagation:
        s = summary(p.kill_ms)
        lines.append(
            f"pause -> {p.commands} commands killed on {p.engines} engines: "
            f"p50 {s['p50']:.1f} ms, p99 {s['p99']:.1f} ms, max {s['max']:.1f} ms "
            f"(engines running commands per trial: {sorted(set(p.engines_running_commands))})"
        )
    lines.append(
        f"decisions: {f.decisions_per_s:,.0f}/s with 4 approvers over {f.writes:,} writes "
        f"(before: {DECISIONS_BEFORE:,.0f}/s), errors {f.decision_errors}, "
        f"each decided once: {f.decided_once}"
    )
    lines.append(team_takeover.line(f.takeover))
    lines += ["", f"{'goal':<52} {'measured':>12} {'target':>10}  result"]
    for name, got, target, ok in f.checks():
        lines.append(f"{name:<52} {got:>12} {target:>10}  {'PASS' if ok else 'FAIL'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--db", default=os.environ.get("SOPHMATE_TEST_PG_URL"),
                   help="a scratch PostgreSQL database: it is emptied")  # fmt: skip
    p.add_argument("--trials", type=int, default=20, help="pause trials per engine count (20)")
    p.add_argument("--engines", default="2,4", help="engine counts (2,4)")
    p.add_argument("--writes", type=int, default=10_000, help="writes to decide (10,000)")
    p.add_argument("--takeovers", type=int, default=5, help="engines killed mid-apply (5)")
    p.add_argument("--quick", action="store_true",
                   help="3 trials, 2 engines, 1,000 writes, 2 takeovers")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a = p.parse_args(argv)
    if not a.db or not a.db.startswith("postgresql://"):
        print("error: --db must name a scratch PostgreSQL database", file=sys.stderr)
        return 2
    counts = [int(n) for n in a.engines.split(",")]
    trials, writes, takeovers = (3, 1000, 2) if a.quick else (a.trials, a.writes, a.takeovers)
    if a.quick:
        counts = [2]
    figures = run(a.db, trials, counts, writes, takeovers)
    return report(figures, table, a.json, ("goal", "measured", "target", "pass"))


if __name__ == "__main__":
    sys.exit(main())
