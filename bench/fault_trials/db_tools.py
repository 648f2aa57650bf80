"""What the database trials share: a database with real data, the command line in a
real process, another process holding the write lock, and a small tmpfs (no TRIALS
here: `bench.faults` finds none and moves on)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.apply import _pending_run
from sophmate_desktop.store.database import open_database

REPO = Path(__file__).resolve().parents[2]
CATEGORY = "files"  # the category of bench.apply's workflow
RAW = (
    "Traceback",
    "OperationalError",
    "DatabaseError",
    "IntegrityError",
)  # what a person must never be shown

HOLDER = """\
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", time.time(), flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
print("unlocked", time.time(), flush=True)
"""


@dataclass
class Cli:
    code: int
    out: str
    err: str

    @property
    def raw(self) -> bool:
        """A driver error or a traceback reached the person."""
        return any(word in self.err for word in RAW)


def cli(path: Path, *args: str, timeout: float = 120) -> Cli:
    done = subprocess.run(
        [sys.executable, "-m", "sophmate_desktop", "--db", f"sqlite:///{path}", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(),
    )
    return Cli(done.returncode, done.stdout, done.stderr)


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("SOPHMATE_DB", None)
    return env


def cli_process(path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sophmate_desktop", "--db", f"sqlite:///{path}", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )


def make_database(
    folder: Path, writes: int = 200, out: Path | None = None
) -> tuple[Path, list[int]]:
    """A database in `folder` with one run of `writes` pending file writes into
    `folder/out` (or `out` when given); returns its path and the writes' ids."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fault.sqlite3"
    db = open_database(f"sqlite:///{path}")
    out = out or folder / "out"
    out.mkdir(parents=True, exist_ok=True)
    try:
        ids = _pending_run(db, out, writes)
    finally:
        db.close()
    return path, ids


def scalar(path: Path, sql: str, *params: object) -> object:
    """One value read with a plain read-only connection (works under a writer's lock)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        row = conn.execute(sql, params).fetchone()
    finally:
        conn.close()
    return row[0] if row else None


def category_paused(path: Path, name: str = CATEGORY) -> bool:
    return bool(scalar(path, "SELECT paused FROM category WHERE name = ?", name))


def global_paused(path: Path) -> bool:
    return bool(scalar(path, "SELECT paused FROM switch WHERE scope = 'global'"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def checkpoint(path: Path) -> None:
    """The WAL moved into the file, so that the file's bytes are the data."""
    conn = sqlite3.connect(str(path))
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


@contextlib.contextmanager
def lock_held(path: Path, seconds: float) -> Iterator[subprocess.Popen]:
    """Another process holds `BEGIN IMMEDIATE` on `path` for `seconds`; its stdout says
    `unlocked TIME` (time.time()) when it lets go."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        assert line and line[0] == "locked", line
        yield proc
    finally:
        if proc.poll() is None and proc.returncode is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(seconds + 30)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def unlocked_at(proc: subprocess.Popen) -> float:
    """When the holder let go (time.time()), once it did."""
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    proc.wait(30)
    assert line and line[0] == "unlocked", line
    return float(line[1])


def may_mount() -> str | None:
    """None when this process may mount a tmpfs, else why not."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    probe = Path(f"/tmp/sm-mount-probe-{os.getpid()}")
    probe.mkdir(exist_ok=True)
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            return f"mount -t tmpfs is not permitted here: {done.stderr.strip()}"
        subprocess.run(["umount", str(probe)], check=True)
        return None
    finally:
        probe.rmdir()


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of `size` mounted at `where` meanwhile (unmounted however it ends)."""
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        for _ in range(50):
            done = subprocess.run(["umount", str(where)], capture_output=True)
            if done.returncode == 0:
                break
            time.sleep(0.1)  # a child that is ending may still hold a file there
        else:
            subprocess.run(["umount", "-l", str(where)], check=False)


def remount(where: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(where)], check=True)


def fill(folder: Path, leave: int = 0, name: str = "filler") -> Path:
    """A filler file taking all the free space of `folder`'s file system but `leave`
    bytes (tmpfs: the blocks are really taken)."""
    filler = folder / name
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    chunk = b"\0" * 65536
    with open(filler, "ab") as fh:
        left = free - leave
        try:
            while left > 0:
                fh.write(chunk[: min(left, len(chunk))])
                left -= len(chunk)
            fh.flush()
        except OSError:
            pass  # full: that is what it is for
    return filler
