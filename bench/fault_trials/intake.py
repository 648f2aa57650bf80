"""Intake faults (issue 14 item 2): a poisoned batch and a folder that vanished.

- "overflow of 2,000 files with an undecodable name among them": another process
  writes 2,000 files and one whose name is not UTF-8 into a watched folder while the
  kernel's inotify queue is lowered to 64 events (when /proc allows it). Held: a good
  file with exactly one succeeded run, the bad one reported (a failed run naming it
  with backslash escapes, and a notice). Lost: a good file without a run, or the bad
  one unreported. Doubled: a file with two runs.
- "folder deleted and re-created": the watched folder is removed and comes back with
  files in it (a rename, so no event names them), then more files arrive. Held: every
  file version after re-creation with exactly one run.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.fault_trials import FaultResult, Trial

KNOB = Path("/proc/sys/fs/inotify/max_queued_events")
BAD = b"bad\xff.txt"

WORKFLOW = """\
name: intake-fault
category: faults
owner: ops-lead
description: Fault trial workflow.
trigger: {{folder: "{folder}", patterns: ["*.txt"], settle_ms: 100}}
input: {{read: text, max_bytes: 100000}}
output: {{paths: ["{out}"], staging_paths: ["{out}"]}}
steps:
  - action: write_file
    to: "{{{{ output.path }}}}/{{{{ file.name }}}}"
    content: "{{{{ input }}}}"
approval: {{mode: always}}
retry: {{limit: 0, backoff_s: 0}}
notify: {{on_failure: [tray]}}
pause: {{consecutive_failures: 100}}
rollback: Delete what it wrote.
"""

WRITER = """\
import os, sys
folder, n, bad = os.fsencode(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
for i in range(n):
    if bad and i == n // 2:
        with open(os.path.join(folder, b"bad\\xff.txt"), "wb") as f:
            f.write(b"undecodable")
    with open(os.path.join(folder, b"f-%05d.txt" % i), "wb") as f:
        f.write(b"%d" % i)
"""


@contextmanager
def _engine(root: Path, folder: Path) -> Iterator[object]:
    from bench.trigger import inmemory_keyring
    from sophmate_desktop.console import Console
    from sophmate_desktop.engine.service import Engine
    from sophmate_desktop.store.database import open_database

    out = root / "out"
    out.mkdir(exist_ok=True)
    with inmemory_keyring():
        db = open_database(f"sqlite:///{root / 'db.sqlite3'}")
        engine = None
        try:
            console = Console(db, actor="fault")
            console.import_workflow(WORKFLOW.format(folder=folder, out=out))
            console.enable_workflow("intake-fault")
            engine = Engine(db, workers=2)
            console.events.subscribe(engine.wake)
            engine.start()
            yield engine
        finally:
            if engine is not None:
                engine.stop()
            db.close()


def _runs() -> dict[str, list[tuple[str, str | None]]]:
    from sophmate_desktop.store.models import Run

    out: dict[str, list[tuple[str, str | None]]] = {}
    for path, status, error in (
        Run.select(Run.trigger_path, Run.status, Run.error)
        .where(Run.trigger_kind == "file")
        .tuples()
    ):
        out.setdefault(path, []).append((status, error))
    return out


def _wait_runs(engine, count: int, timeout: float) -> None:
    from sophmate_desktop.store.models import Run

    deadline = time.monotonic() + timeout
    while Run.select().where(Run.trigger_kind == "file").count() < count:
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    engine.wait_idle(max(1.0, deadline - time.monotonic()))


class _Overflows(logging.Handler):
    """Counts watchdog's "queue overflowed" warnings: the kernel really dropped events."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self.count += 1


@contextmanager
def _lowered_queue() -> Iterator[bool]:
    try:
        old = KNOB.read_text()
        KNOB.write_text("64")
    except OSError:
        yield False
        return
    try:
        yield True
    finally:
        KNOB.write_text(old)


def overflow_with_bad_name(trials: int, files: int = 2000) -> FaultResult:
    from sophmate_desktop.store.models import Notification

    result = FaultResult(trials=trials, held=0)
    lowered_all = True
    overflows = _Overflows()
    logging.getLogger("watchdog").addHandler(overflows)
    for _ in range(trials):
        with tempfile.TemporaryDirectory(prefix="sophmate-fault-") as t:
            root = Path(t)
            folder = root / "in"
            folder.mkdir()
            with _engine(root, folder) as engine, _lowered_queue() as lowered:
                lowered_all = lowered_all and lowered
                engine.wait_idle(30)
                subprocess.run(
                    [sys.executable, "-c", WRITER, str(folder), str(files), "1"],
                    check=True,
                    timeout=120,
                )
                _wait_runs(engine, files + 1, 180)
                runs = _runs()
                refused_notices = (
                    Notification.select().where(Notification.kind == "file_refused").count()
                )
            for i in range(files):
                _count(result, runs.get(str(folder / f"f-{i:05}.txt"), []))
            bad = runs.get(str(folder / "bad\\xff.txt"), [])
            reported = (
                len(bad) == 1
                and bad[0][0] == "failed"
                and "not valid UTF-8" in (bad[0][1] or "")
                and refused_notices == 1
            )
            if reported:
                result.held += 1
            elif len(bad) > 1:
                result.doubled += 1
            else:
                result.lost += 1
    logging.getLogger("watchdog").removeHandler(overflows)
    queue = "inotify queue lowered to 64" if lowered_all else "queue NOT lowered (no root)"
    result.detail = (
        f"{files:,} files + 1 undecodable per trial; {queue}; {overflows.count} overflow warnings"
    )
    return result


def _count(result: FaultResult, runs: list[tuple[str, str | None]]) -> None:
    if not runs:
        result.lost += 1
    elif len(runs) > 1:
        result.doubled += 1
    elif runs[0][0] != "succeeded":
        result.unexplained += 1
    else:
        result.held += 1


def folder_recreated(trials: int, files: int = 200) -> FaultResult:
    result = FaultResult(trials=trials, held=0)
    with tempfile.TemporaryDirectory(prefix="sophmate-fault-") as t:
        root = Path(t)
        folder = root / "in"
        folder.mkdir()
        expected: Counter[tuple[str, bytes]] = Counter()
        with _engine(root, folder) as engine:
            engine.wait_idle(30)
            for trial in range(trials):
                staged = root / f"staged-{trial}"
                staged.mkdir()
                for i in range(files):  # same names each time, new content: new versions
                    (staged / f"g-{i:04}.txt").write_bytes(b"%d-%d" % (trial, i))
                for p in folder.iterdir():
                    p.unlink()
                folder.rmdir()
                os.rename(staged, folder)
                for i in range(files // 4):  # arriving after it came back
                    (folder / f"late-{trial}-{i:04}.txt").write_bytes(b"late")
                _wait_runs(engine, (trial + 1) * (files + files // 4), 120)
            runs = _runs()
        per_path = Counter({p: len(r) for p, r in runs.items()})
        for i in range(files):
            expected[(str(folder / f"g-{i:04}.txt"), b"")] = trials
        for (path, _), n in expected.items():
            got = per_path.get(path, 0)
            result.held += min(got, n)
            result.lost += max(0, n - got)
            result.doubled += max(0, got - n)
        for trial in range(trials):
            for i in range(files // 4):
                _count(result, runs.get(str(folder / f"late-{trial}-{i:04}.txt"), []))
        bad = [r for rs in runs.values() for r in rs if r[0] != "succeeded"]
        result.unexplained += len(bad)
    result.detail = f"{files} files back with the folder and {files // 4} after it, per trial"
    return result


TRIALS = [
    Trial(
        "overflow of 2,000 files with an undecodable name among them",
        1,
        overflow_with_bad_name,
        1,
    ),
    Trial("folder deleted and re-created", 5, folder_recreated, 2),
]
