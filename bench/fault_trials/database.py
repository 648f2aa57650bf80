"""The database in trouble (issue 14, items 1 and 9), each fault against the command
line in real processes on a real SQLite file with data (one run of pending writes).

- locked during a pause: another process holds `BEGIN IMMEDIATE` for 15 s (quick:
  3 s); `category pause` must show its countdown and commit once the lock goes (held),
  never print a raw OperationalError; the time from the release to the commit (seen
  by a reader polling the table) is reported. A second pause under the lock gets
  Ctrl-C (SIGINT) after two countdown lines: exit 11, "NOT recorded", nothing paused.
- corrupt file: a backup, then more changes (a pause and a resume: events the backup
  lacks), then one page in the middle of the file overwritten (where in the middle
  moves with each trial). `runs list`, `category pause`, `audit verify` must each exit
  14 naming the corruption and the backup; `db restore` brings it back; the restored
  file passes `db check` and `audit verify`; every event of the backup is in it
  (lost: one missing), and the events since the backup are counted as explained.
- read-only: the file chmod 0444, the folder chmod 0555 and (root) the tmpfs holding it
  remounted read-only: `category list`, `audit verify`, `runs list` exit 0 saying
  read-only; `category pause` exits 12 saying read-only; the file's bytes unchanged
  and nothing paused; writable again, the pause commits.
- full disk during apply: bench/fault_trials/db_full_disk.py.

Items: each command checked counts held when it did what it must, unexplained when it
did something else (exit 0 on a corrupt file, a raw error, no countdown...).
"""

from __future__ import annotations

import signal
import tempfile
import time
from pathlib import Path

from bench.fault_trials import FaultResult, Trial
from bench.fault_trials.db_full_disk import run_full_disk
from bench.fault_trials.db_tools import (
    CATEGORY,
    category_paused,
    checkpoint,
    cli,
    cli_process,
    global_paused,
    lock_held,
    make_database,
    may_mount,
    remount,
    scalar,
    sha256,
    tmpfs,
    unlocked_at,
)
from sophmate_desktop.domain.errors import ExitCode

COUNTDOWN = "database busy"
PAGE = 4096


class Items:
    """Held / unexplained counts over checked items, and what went wrong."""

    def __init__(self) -> None:
        self.held = 0
        self.lost = 0
        self.unexplained = 0
        self.wrong: list[str] = []

    def check(self, ok: bool, what: str) -> bool:
        if ok:
            self.held += 1
        else:
            self.unexplained += 1
            self.wrong.append(what)
        return ok

    def result(self, trials: int, detail: str, **extra: float) -> FaultResult:
        if self.wrong:
            detail += "; WRONG: " + "; ".join(self.wrong[:5])
        return FaultResult(
            trials,
            self.held,
            lost=self.lost,
            unexplained=self.unexplained,
            detail=detail,
            extra=extra,
        )


# Locked during a pause ----------------------------------------------------------


def _wait_paused(path: Path, proc, deadline: float, is_paused) -> float | None:
    """time.time() when a reader first sees the pause committed (None: never)."""
    while time.monotonic() < deadline:
        if is_paused(path):
            return time.time()
        if proc.poll() is not None and not is_paused(path):
            return None
        time.sleep(0.01)
    return None


def locked_pause(path: Path, lock_s: float, items: Items) -> float | None:
    """One pause under a lock held `lock_s`; the ms from the release to the commit."""
    with lock_held(path, lock_s) as holder:
        proc = cli_process(path, "category", "pause", CATEGORY, "--reason", "locked drill")
        seen = _wait_paused(path, proc, time.monotonic() + lock_s + 60, category_paused)
        released = unlocked_at(holder)
    _, err = proc.communicate(timeout=60)
    lines = [line for line in err.splitlines() if COUNTDOWN in line]
    items.check(proc.returncode == 0 and seen is not None, f"pause exit {proc.returncode}")
    # one countdown line per 1 s attempt: at least one for every 2 s the lock was held
    items.check(len(lines) >= max(1, int(lock_s / 2)), f"{len(lines)} countdown lines")
    items.check("OperationalError" not in err and "Traceback" not in err, f"raw: {err[-200:]}")
    return None if seen is None else (seen - released) * 1000


def interrupted_pause(path: Path, items: Items) -> None:
    """Ctrl-C while a pause waits: exit 11, "NOT recorded", nothing paused. The lock
    is held longer than the wait lasts, then dropped (the holder killed)."""
    with lock_held(path, 60) as holder:
        proc = cli_process(path, "category", "pause", "--all", "--reason", "given up")
        assert proc.stderr is not None
        told = 0
        while told < 2:
            line = proc.stderr.readline()
            if not line:
                break
            told += COUNTDOWN in line
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        holder.kill()
    items.check(proc.returncode == ExitCode.DB_BUSY, f"Ctrl-C exit {proc.returncode}")
    items.check("NOT recorded" in err and not global_paused(path), f"Ctrl-C said {err[-200:]}")


def lock_trial(lock_s: float):
    def run(trials: int) -> FaultResult:
        items = Items()
        after: list[float] = []
        for _ in range(trials):
            with tempfile.TemporaryDirectory() as tmp:
                path, _ids = make_database(Path(tmp), 50)
                ms = locked_pause(path, lock_s, items)
                if ms is not None:
                    after.append(ms)
                interrupted_pause(path, items)
        worst = max(after, default=float("nan"))
        return items.result(
            trials,
            f"lock held {lock_s:g} s: pause committed {worst:.0f} ms after the release "
            f"(worst of {len(after)}), countdown shown; Ctrl-C: exit 11, NOT recorded",
            release_to_commit_ms=worst,
        )

    return run


# Corrupt file -------------------------------------------------------------------


def corrupt_page(path: Path, fraction: float) -> int:
    """Overwrite the page at `fraction` of the file with garbage; its number."""
    checkpoint(path)
    pages = path.stat().st_size // PAGE
    page = min(max(2, int(pages * fraction)), pages)
    with open(path, "r+b") as fh:
        fh.seek((page - 1) * PAGE)
        fh.write(bytes((i * 37 + 11) % 256 for i in range(PAGE)))
    return page


def _names_corruption(r, backup: Path) -> bool:
    return (
        r.code == ExitCode.DB_CORRUPT
        and "corrupt" in r.err
        and str(backup) in r.err
        and "db restore" in r.err
        and not r.raw
    )


def _events(path: Path) -> list[tuple]:
    import sqlite3

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT id, hash FROM audit_event ORDER BY id").fetchall()
    finally:
        conn.close()


def corrupt_one(tmp: Path, fraction: float, items: Items) -> int:
    """One corruption; returns how many events since the backup the restore lost."""
    path, _ids = make_database(tmp, 300)
    backed = cli(path, "db", "backup")
    assert backed.code == 0, backed.err
    backup = Path(backed.out.split("backup taken: ")[1].split(" (")[0])
    in_backup = _events(backup)
    for args in (
        ("pause", CATEGORY, "--reason", "after the backup"),
        ("resume", CATEGORY, "--reason", "after the backup"),
    ):
        assert cli(path, "category", *args).code == 0
    since = len(_events(path)) - len(in_backup)
    page = corrupt_page(path, fraction)
    for args in (
        ("runs", "list"),
        ("category", "pause", CATEGORY, "--reason", "x"),
        ("audit", "verify"),
    ):
        r = cli(path, *args)
        items.check(
            _names_corruption(r, backup),
            f"page {page}: {' '.join(args[:2])} exit {r.code}: {r.err.strip()[:160]}",
        )
    restored = cli(path, "db", "restore", "--reason", "corrupt drill")
    items.check(restored.code == 0, f"restore exit {restored.code}: {restored.err[:160]}")
    check, verify = cli(path, "db", "check"), cli(path, "audit", "verify")
    items.check(
        check.code == 0 and verify.code == 0 and "intact" in verify.out,
        f"after restore: check {check.code}, verify {verify.code}",
    )
    after = _events(path)
    items.lost += len(set(in_backup) - set(after))
    items.check(len(after) == len(in_backup) + 1, f"{len(after)} events after restore")
    return since


def corrupt_trial(trials: int) -> FaultResult:
    items = Items()
    since = 0
    for k in range(trials):
        fraction = 0.3 + 0.4 * (k / max(trials - 1, 1)) if trials > 1 else 0.5
        with tempfile.TemporaryDirectory() as tmp:
            since += corrupt_one(Path(tmp), fraction, items)
    return items.result(
        trials,
        f"a page between 30% and 70% of the file overwritten: named corrupt with the "
        f"backup by runs list, category pause and audit verify; restored and verified; "
        f"explained: {since} events made after the backups are not in them (lost by "
        "the restore, as the message says it restores that backup)",
        events_since_backup=float(since),
    )


# Read-only ----------------------------------------------------------------------


def _read_only_checks(path: Path, items: Items, how: str) -> None:
    before = sha256(path)
    for args in (("category", "list"), ("audit", "verify"), ("runs", "list")):
        r = cli(path, *args)
        items.check(
            r.code == 0 and "read-only" in r.err and not r.raw,
            f"{how}: {' '.join(args)} exit {r.code}: {r.err.strip()[:160]}",
        )
    paused = cli(path, "category", "pause", CATEGORY, "--reason", "read-only drill")
    items.check(
        paused.code == ExitCode.DB_READ_ONLY and "read-only" in paused.err and not paused.raw,
        f"{how}: pause exit {paused.code}: {paused.err[:160]}",
    )
    items.check(sha256(path) == before, f"{how}: the file changed")


def _writable_again(path: Path, items: Items, how: str) -> None:
    items.check(not category_paused(path), f"{how}: paused by a refused pause")
    r = cli(path, "category", "pause", CATEGORY, "--reason", "writable again")
    ok = scalar(path, "PRAGMA quick_check") == "ok"
    items.check(r.code == 0 and category_paused(path) and ok, f"{how}: then pause {r.code}")


def read_only_trial(trials: int) -> FaultResult:
    import os

    items = Items()
    skipped = may_mount()
    for _ in range(trials):
        with tempfile.TemporaryDirectory() as tmp:
            path, _ = make_database(Path(tmp) / "file", 50)
            os.chmod(path, 0o444)
            _read_only_checks(path, items, "file 0444")
            os.chmod(path, 0o644)
            _writable_again(path, items, "file 0444")

            path, _ = make_database(Path(tmp) / "folder", 50)
            os.chmod(path.parent, 0o555)
            _read_only_checks(path, items, "folder 0555")
            os.chmod(path.parent, 0o755)
            _writable_again(path, items, "folder 0555")

            if skipped is None:
                with tmpfs(Path(tmp) / "mnt", "16m") as mnt:
                    path, _ = make_database(mnt / "db", 50)
                    remount(mnt, "ro")
                    _read_only_checks(path, items, "tmpfs remounted ro")
                    remount(mnt, "rw")
                    _writable_again(path, items, "tmpfs remounted ro")
    how = "file 0444, folder 0555" + (
        ", tmpfs remounted read-only" if skipped is None else f" (no ro remount: {skipped})"
    )
    return items.result(
        trials, f"{how}: reads exit 0 saying read-only, a pause exits 12, the file unchanged"
    )


# Full disk ------------------------------------------------------------------------


def full_disk_trial(trials: int) -> FaultResult:
    skipped = may_mount()
    if skipped is not None:
        return FaultResult(0, 0, detail=f"skipped: {skipped}")
    t = run_full_disk(trials)
    codes = ", ".join(f"{k} {v}" for k, v in t.cli_codes.items())
    return FaultResult(
        trials,
        t.held,
        lost=t.lost,
        doubled=t.doubled,
        unexplained=t.unexplained,
        detail="; ".join(t.notes[:4]) + f"; CLI exit codes: {codes}",
    )


def _lock_quick_or_full(trials: int) -> FaultResult:
    # bench.faults passes the quick count (1) with --quick: the 3 s lock then
    return lock_trial(3.0 if trials == 1 else 15.0)(trials)


TRIALS = [
    Trial("database locked 15 s during a pause", 2, _lock_quick_or_full, 1),
    Trial("database corrupt file", 3, corrupt_trial, 1),
    Trial("database read-only file", 1, read_only_trial, 1),
    Trial("database full disk during apply", 2, full_disk_trial, 1),
]
