"""Crash faults (issue 14, items 4 and 5): kill -9 of real engine processes.

- "kill -9 at random points of planning, approving and applying": one temporary
  SQLite database, two workflows in staging watching folders: `crash-files` (a text
  file -> a write_file and a run_command that appends a line to a counter file, so a
  command run twice shows) and `crash-rows` (a CSV -> one write_file per row: planning
  takes a while). Each trial feeds work to the running engine process, kills it
  (SIGKILL) at a random moment of one phase, and starts a new engine:
  planning (files dropped, killed 0-0.5 s after a run starts planning), approving
  (a separate `inbox approve` CLI process deciding the pending writes, the engine
  killed 0-0.6 s after it starts, and in half of these trials the approver killed
  too) or applying (killed 0-0.5 s after a write is `applying`). After each restart
  no run may be `running` and no write `applying` under a dead engine. At the end
  every pending write is approved by the CLI and the last engine settles. Items:
  file versions (exactly one run each: none = lost, more = doubled), CSV runs
  (exactly one write per row), writes (applied once with the right content or the
  counter line, or `interrupted` and in the inbox = held; more than one
  write.applied event or counter line = doubled; still approved/applying/pending =
  lost; failed = unexplained), temporary files left (leaked), `audit verify` not
  intact (unexplained).
- "a reused pid after a crash": the engine is killed while a command write is
  `applying`; its instance row (and its command's process row) is then pointed at a
  live unrelated `sleep` with another start time. The next engine must judge the
  instance dead, make the write `interrupted` and visible, and not kill the sleep.
- "orphaned commands after kill -9 (0 left)": a command `sh -c` with two children in
  its group and one in a new session (setsid); the engine is killed mid-command.
  Held: no process of the command left (a /proc scan for the command's environment
  mark) within 3 s of the kill, before any restart, and after the restart the write
  `interrupted` and in the inbox. Half of the trials also SIGKILL the supervisor
  with the engine (the group's leader gone): then the restarted engine must kill the
  group the dead instance left. Figures: the worst time from the kill to 0 left.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench.fault_trials import FaultResult, Trial
from bench.fault_trials.crash_rig import Rig, marked_processes, wait_for

SEED = 14
FILE_STEPS = """\
  - action: write_file
    to: "{{{{ output.path }}}}/{{{{ file.stem }}}}.txt"
    content: "{{{{ input }}}}"
  - action: run_command
    argv: {argv}
    timeout_s: 60
"""
# a line in the counter, then a while (a kill may land before, while or after it)
COUNT = "import sys, time; open(sys.argv[1], 'a').write('ran\\n'); time.sleep(0.3)"
ROW_STEPS = """\
  - action: write_file
    for_each: rows
    to: "{{ output.path }}/rows/{{ file.stem }}-{{ row.id }}.txt"
    content: "{{ row.value }}"
"""


class KillRig(Rig):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.files_in, self.rows_in = root / "in-files", root / "in-rows"
        self.counters = root / "counters"
        for d in (self.files_in, self.rows_in, self.counters, self.out / "rows"):
            d.mkdir()
        self.dropped: dict[str, str] = {}  # file name -> content
        self.rows: dict[str, int] = {}  # CSV stem -> rows
        self.n = 0

    def prepare(self) -> None:
        samples = self.root / "samples"
        samples.mkdir()
        (samples / "sample.txt").write_text("sample")
        (samples / "sample.csv").write_text("id,value\n1,one\n")
        argv = [sys.executable, "-c", COUNT, f"{self.counters}/{{{{ file.stem }}}}.count"]
        files = self.workflow("crash-files", FILE_STEPS.format(argv=json.dumps(argv)),
                              folder=self.files_in, read="text")
        rows = self.workflow("crash-rows", ROW_STEPS, folder=self.rows_in, read="csv",
                             patterns=("*.csv",))
        self.set_up({"crash-files": files, "crash-rows": rows},
                    {"crash-files": samples / "sample.txt", "crash-rows": samples / "sample.csv"})

    def drop(self, rng: random.Random, texts: int, rows: int) -> None:
        """Files arrive by rename (whole), as a writer that finishes them elsewhere."""
        for _ in range(texts):
            self.n += 1
            name, content = f"t{self.n:05}.txt", f"text {self.n}"
            self._arrive(self.files_in / name, content)
            self.dropped[name] = content
        if rows:
            self.n += 1
            stem = f"r{self.n:05}"
            body = "id,value\n" + "".join(f"{i},value {stem} {i}\n" for i in range(rows))
            self._arrive(self.rows_in / f"{stem}.csv", body)
            self.rows[stem] = rows

    def _arrive(self, path: Path, content: str) -> None:
        part = path.parent.parent / f".{path.name}.part"
        part.write_text(content)
        part.rename(path)

    def pending(self) -> list[int]:
        return [r[0] for r in self.query("SELECT id FROM write WHERE status = 'pending'")]


def _dead_claims(rig: Rig, engine_pid: int) -> int:
    """Runs `running` and writes `applying` claimed by another engine than this one."""
    mine = f"%:{engine_pid}#%"
    runs = rig.count(
        "SELECT COUNT(*) FROM run WHERE status = 'running' AND claimed_by NOT LIKE ?", (mine,))
    writes = rig.count(
        "SELECT COUNT(*) FROM write WHERE status = 'applying' AND claimed_by NOT LIKE ?", (mine,))
    return runs + writes


def _approve(rig: KillRig, ids: list[int]):
    return rig.cli("inbox", "approve", *map(str, ids), "--comment", "fault trial")


def _kill_while_planning(rig: KillRig, engine, rng: random.Random) -> str:
    before = rig.count("SELECT COUNT(*) FROM run")
    rig.drop(rng, texts=rng.randint(1, 3), rows=rng.randint(300, 1500))
    wait_for(lambda: rig.count("SELECT COUNT(*) FROM run") > before, 30, "a run to start")
    time.sleep(rng.uniform(0, 0.5))
    rig.kill9(engine)
    return "planning"


def _some_pending(rig: KillRig, rng: random.Random) -> list[int]:
    """The pending writes; when there are none, new files planned until there are."""
    if not rig.pending():
        rig.drop(rng, texts=rng.randint(1, 3), rows=rng.randint(50, 400))
        wait_for(rig.pending, 60, "writes to approve")
    return rig.pending()


def _kill_while_approving(rig: KillRig, engine, rng: random.Random) -> str:
    ids = _some_pending(rig, rng)
    approver = _approve(rig, ids)
    kill_approver = rng.random() < 0.5
    moments = sorted([rng.uniform(0, 0.6), rng.uniform(0, 0.6)])
    time.sleep(moments[0])
    if kill_approver:
        rig.kill9(approver)
    time.sleep(moments[1] - moments[0])
    rig.kill9(engine)
    if not kill_approver:
        approver.communicate(timeout=120)
    return "approving"


def _kill_while_applying(rig: KillRig, engine, rng: random.Random) -> str:
    ids = _some_pending(rig, rng)
    approver = _approve(rig, ids)
    approver.communicate(timeout=120)
    try:
        wait_for(lambda: rig.count("SELECT COUNT(*) FROM write WHERE status = 'applying'"),
                 10, "a write applying")
    except TimeoutError:
        pass  # applied already: the kill lands after it
    time.sleep(rng.uniform(0, 0.5))
    rig.kill9(engine)
    return "applying"


PHASES = (_kill_while_planning, _kill_while_approving, _kill_while_applying)


def _judge(rig: KillRig, inbox_ids: set[int]) -> dict[str, int]:
    c = {"held": 0, "lost": 0, "doubled": 0, "leaked": 0, "unexplained": 0, "interrupted": 0}
    runs: dict[str, list[int]] = {}
    for run_id, path in rig.query("SELECT id, trigger_path FROM run WHERE trigger_kind = 'file'"):
        runs.setdefault(Path(path).name, []).append(run_id)
    for name in [*rig.dropped, *(f"{s}.csv" for s in rig.rows)]:
        n = len(runs.get(name, []))
        key = "held" if n == 1 else "lost" if n == 0 else "doubled"
        c[key] += 1
    for stem, rows in rig.rows.items():
        got = rig.count(
            "SELECT COUNT(DISTINCT w.seq) FROM write w JOIN run r ON r.id = w.run_id "
            "WHERE r.trigger_path LIKE ? AND r.trigger_kind = 'file'", (f"%/{stem}.csv",))
        total = rig.count(
            "SELECT COUNT(*) FROM write w JOIN run r ON r.id = w.run_id "
            "WHERE r.trigger_path LIKE ? AND r.trigger_kind = 'file'", (f"%/{stem}.csv",))
        key = "held" if got == rows == total else "doubled" if total > rows else "lost"
        c[key] += 1
    applied: dict[str, int] = {}
    for (subject,) in rig.query("SELECT subject FROM audit_event WHERE action = 'write.applied'"):
        applied[subject] = applied.get(subject, 0) + 1
    for wid, kind, status, payload in rig.query(
            "SELECT w.id, w.kind, w.status, w.payload FROM write w JOIN run r ON r.id = w.run_id"
            " WHERE r.trigger_kind = 'file' AND r.mode = 'staging'"):
        c[_judge_write(wid, kind, status, json.loads(payload), applied.get(f"write {wid}", 0),
                       wid in inbox_ids)] += 1
        c["interrupted"] += status == "interrupted"
    for counter in rig.counters.glob("*.count"):
        if counter.read_text().count("ran") > 1:
            c["doubled"] += 1
    c["leaked"] += len(rig.temp_files())
    return c


def _judge_write(wid: int, kind: str, status: str, payload: dict, events: int,
                 in_inbox: bool) -> str:
    if events > 1:
        return "doubled"
    if status in ("pending", "approved", "applying"):
        return "lost"
    if status == "interrupted":
        return "held" if in_inbox else "unexplained"
    if status != "applied" or events != 1:
        return "unexplained"
    if kind == "write_file":
        path = Path(payload["path"])
        return "held" if path.is_file() and path.read_text() == payload["content"] else "lost"
    counter = Path(payload["argv"][-1])
    return "held" if counter.is_file() and counter.read_text().count("ran") == 1 else "lost"


def kill_at_random_points(trials: int, seed: int = SEED) -> FaultResult:
    rng = random.Random(seed)
    phases: dict[str, int] = {}
    unexplained_after_restart = 0
    with tempfile.TemporaryDirectory(prefix="sm-crash-") as tmp:
        rig = KillRig(Path(tmp))
        rig.prepare()
        engine = rig.start_engine()
        try:
            for i in range(trials):
                phase = PHASES[i % 3](rig, engine, rng)
                phases[phase] = phases.get(phase, 0) + 1
                engine = rig.start_engine()
                if _dead_claims(rig, engine.pid):
                    unexplained_after_restart += 1
            code, said = _finish(rig)
        finally:
            if engine.poll() is None:
                rig.stop(engine)
            rig.close()
        with rig.keyring():
            inbox = _inbox_ids(rig)
        c = _judge(rig, inbox)
    c["unexplained"] += unexplained_after_restart + (0 if code == 0 and "intact" in said else 1)
    by_phase = ", ".join(f"{n} {p}" for p, n in sorted(phases.items()))
    detail = (
        f"{trials} kills ({by_phase}), {len(rig.dropped)} text files and {len(rig.rows)} CSVs "
        f"({sum(rig.rows.values())} rows): {c['interrupted']} writes interrupted (in the "
        f"inbox), {unexplained_after_restart} restarts with work of a dead engine left, "
        f"{len(rig.temp_files())} temp files, audit verify: {said.strip().splitlines()[0]}"
    )
    return FaultResult(trials, c["held"], lost=c["lost"], doubled=c["doubled"],
                       leaked=c["leaked"], unexplained=c["unexplained"], detail=detail,
                       extra={"interrupted": float(c["interrupted"])})


def _finish(rig: KillRig) -> tuple[int, str]:
    """Approve what is pending, let the last engine settle, stop it, verify the audit."""
    engine = rig.start_engine()
    try:
        for _ in range(3):  # runs planned while approving add pending writes
            wait_for(rig.settled, 180, "the engine to settle")
            ids = rig.pending()
            if not ids:
                break
            code, out = rig.run_cli("inbox", "approve", *map(str, ids))
            if code != 0:
                raise RuntimeError(f"inbox approve: {out}")
        wait_for(rig.settled, 180, "the engine to settle")
    finally:
        rig.stop(engine)
    return rig.run_cli("audit", "verify", actor="auditor")


def _inbox_ids(rig: Rig) -> set[int]:
    from sophmate_desktop.console import Console
    from sophmate_desktop.store.database import open_database

    db = open_database(rig.url)
    try:
        rows = Console(db, actor="auditor").list_inbox(limit=100000)
        return {r.id for r in rows}
    finally:
        db.close()


TRIALS = [
    Trial("kill -9 at random points of planning, approving and applying", 100,
          kill_at_random_points, 6),
]



# A reused pid and orphaned commands --------------------------------------------

SLEEP_STEPS = """\
  - action: run_command
    argv: {argv}
    env: {{TRIAL_MARK: "{{{{ file.stem }}}}"}}
    timeout_s: 120
"""
GROUP = "sleep 300 & sleep 300 & setsid sleep 300 & wait"  # two in the group, one in a new session
GROUP_ONLY = "sleep 300 & sleep 300 & wait"


class CommandRig(Rig):
    """A workflow whose command's processes carry TRIAL_MARK=<the trigger file's stem>."""

    def __init__(self, root: Path, script: str) -> None:
        super().__init__(root)
        self.inputs = root / "inputs"
        self.inputs.mkdir()
        sample = root / "sample.txt"
        sample.write_text("sample")
        argv = json.dumps(["sh", "-c", script])
        self.set_up({"crash-cmd": self.workflow("crash-cmd", SLEEP_STEPS.format(argv=argv),
                                                folder=None, read="text")},
                    {"crash-cmd": sample})

    def applying_command(self, mark: str, processes: int) -> tuple[subprocess.Popen[str], int]:
        """A started engine applying a command of `mark` with `processes` running."""
        (self.inputs / f"{mark}.txt").write_text(mark)
        code, out = self.run_cli("workflow", "run", "crash-cmd", "--file",
                                 str(self.inputs / f"{mark}.txt"), actor="fault-lead")
        if code != 0:
            raise RuntimeError(f"workflow run: {out}")
        [(write_id,)] = self.query(
            "SELECT w.id FROM write w JOIN run r ON r.id = w.run_id "
            "WHERE r.trigger_path LIKE ? AND w.status = 'pending'", (f"%/{mark}.txt",))
        engine = self.start_engine()
        code, out = self.run_cli("inbox", "approve", str(write_id))
        if code != 0:
            raise RuntimeError(f"inbox approve: {out}")
        wait_for(lambda: len(marked_processes(mark)) >= processes, 30, "the command's processes")
        wait_for(lambda: self.count("SELECT COUNT(*) FROM engine_process WHERE write = ?",
                                    (write_id,)), 30, "the command's group recorded")
        return engine, write_id

    def trials(self, n: int) -> Iterator[int]:
        """range(n), with every engine killed if a trial fails half-way."""
        try:
            yield from range(n)
        finally:
            self.close()

    def interrupted_in_inbox(self, write_id: int) -> bool:
        status = self.query("SELECT status FROM write WHERE id = ?", (write_id,))[0][0]
        if status != "interrupted":
            return False
        with self.keyring():
            return write_id in _inbox_ids(self)


def reused_pid(trials: int) -> FaultResult:
    held = unexplained = killed_unrelated = 0
    with tempfile.TemporaryDirectory(prefix="sm-pid-") as tmp:
        rig = CommandRig(Path(tmp), GROUP_ONLY)
        with contextlib.closing(rig.trials(trials)) as numbers:
            for i in numbers:
                mark = f"pid{i:03}"
                engine, write_id = rig.applying_command(mark, 4)
                [(instance, pid_start)] = rig.query(
                    "SELECT i.id, i.pid_start FROM engine_instance i JOIN engine_process p "
                    "ON p.instance = i.id WHERE p.write = ?", (write_id,))
                rig.kill9(engine)
                wait_for(lambda mark=mark: not marked_processes(mark), 10, "the command to die")
                unrelated = subprocess.Popen(["sleep", "300"], start_new_session=True)
                try:
                    _point_at(rig, instance, write_id, unrelated.pid, pid_start)
                    engine = rig.start_engine()
                    try:
                        ok = rig.interrupted_in_inbox(write_id)
                    finally:
                        rig.stop(engine)
                    alive = unrelated.poll() is None
                finally:
                    unrelated.kill()
                    unrelated.wait()
                killed_unrelated += not alive
                if ok and alive:
                    held += 1
                else:
                    unexplained += 1
    return FaultResult(
        trials, held, unexplained=unexplained,
        detail=(f"instance and process rows pointed at a live unrelated sleep (another start "
                f"time): {held} writes interrupted and in the inbox, {killed_unrelated} "
                "unrelated processes killed"),
        extra={"unrelated_killed": float(killed_unrelated)},
    )


def _point_at(rig: Rig, instance: str, write_id: int, pid: int, old_start: int) -> None:
    """The crashed engine's rows now name `pid`, with the start time they recorded
    (the dead engine's and its command's), which `pid` does not have."""
    import sqlite3

    from sophmate_desktop.store.instances import pid_start_time

    assert pid_start_time(pid) != old_start
    con = sqlite3.connect(rig.db_path, timeout=30)
    try:
        with con:
            con.execute("UPDATE engine_instance SET pid = ? WHERE id = ?", (pid, instance))
            con.execute("UPDATE engine_process SET pid = ?, pgid = ? WHERE write = ?",
                        (pid, pid, write_id))
    finally:
        con.close()


def orphaned_commands(trials: int) -> FaultResult:
    held = left = unexplained = 0
    worst_ms = 0.0
    with tempfile.TemporaryDirectory(prefix="sm-orphan-") as tmp:
        for kind, script, processes in (("session", GROUP, 5), ("group", GROUP_ONLY, 4)):
            runs = (trials + 1) // 2 if kind == "session" else trials // 2
            if not runs:
                continue
            rig = CommandRig(Path(tmp) / kind, script)
            with contextlib.closing(rig.trials(runs)) as numbers:
                for i in numbers:
                    mark = f"{kind}{i:03}"
                    engine, write_id = rig.applying_command(mark, processes)
                    if kind == "group":  # the supervisor dies with the engine: the group stays
                        [(sup,)] = rig.query("SELECT pid FROM engine_process WHERE write = ?",
                                             (write_id,))
                        os.kill(sup, signal.SIGKILL)
                    t0 = time.perf_counter()
                    rig.kill9(engine)
                    if kind == "session":
                        try:
                            wait_for(lambda mark=mark: not marked_processes(mark), 3, "0 left")
                            worst_ms = max(worst_ms, (time.perf_counter() - t0) * 1000)
                        except TimeoutError:
                            left += len(marked_processes(mark))
                    engine = rig.start_engine()
                    try:
                        try:
                            wait_for(lambda mark=mark: not marked_processes(mark), 10, "0 left")
                        except TimeoutError:
                            left += len(marked_processes(mark))
                        explained = rig.interrupted_in_inbox(write_id)
                    finally:
                        rig.stop(engine)
                    if explained and not marked_processes(mark):
                        held += 1
                    else:
                        unexplained += not explained
    return FaultResult(
        trials, held, leaked=left, unexplained=unexplained,
        detail=(f"{(trials + 1) // 2} engines killed alone (a command with 2 children in its "
                f"group and 1 in a new session): 0 left within {worst_ms:.0f} ms at worst, no "
                f"restart needed; {trials // 2} with the supervisor killed too: the restarted "
                f"engine killed the group; {left} processes left in all"),
        extra={"worst_ms_to_0_left": worst_ms, "left": float(left)},
    )


TRIALS += [
    Trial("a reused pid after a crash", 10, reused_pid, 2),
    Trial("orphaned commands after kill -9 (0 left)", 10, orphaned_commands, 2),
]


if __name__ == "__main__":
    for t in TRIALS:
        if len(sys.argv) < 2 or sys.argv[1] in t.name:
            print(t.name, t.run(int(sys.argv[2]) if len(sys.argv) > 2 else t.quick_trials))
