"""Backups of a SQLite database: taken with SQLite's online backup API, verified,
kept N deep, listed, restored.

A backup lives in `backups/` beside the database as `NAME.STAMP[.REASON].sqlite3`;
it is written as `.partial`, checked with `PRAGMA quick_check` and only then given its
final name, so every `.sqlite3` file there is a verified copy (a copy that fails the
check is kept as `.failed`, never counted, never pruned before a good one exists).

The engine holds a shared lock on `NAME.engine-lock` while it runs (`engine_lock`);
`restore` takes it exclusively, so it refuses while an engine works on the file.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.errors import BadInput, DatabaseUnreachable, PolicyRefused
from sophmate_desktop.store.models import Setting

log = logging.getLogger(__name__)

BACKUP_DIR = "backups"
SUFFIX = ".sqlite3"
PARTIAL = ".partial"
FAILED = ".failed"
STAMP = "%Y%m%dT%H%M%S%f"
EVERY_HOURS_KEY = "backup_every_hours"
KEEP_KEY = "backup_keep"
DEFAULT_EVERY_HOURS = 24.0
DEFAULT_KEEP = 7


@dataclass(frozen=True)
class Backup:
    path: Path
    taken_at: datetime
    verified: bool
    reason: str  # "scheduled", "manual", "before-migration-0007", ...
    size: int

    def to_dict(self) -> dict:
        return {
            "path": str(self.path),
            "taken_at": self.taken_at.isoformat(),
            "verified": self.verified,
            "reason": self.reason,
            "size": self.size,
        }


def backup_dir(db_path: Path) -> Path:
    return db_path.parent / BACKUP_DIR


def sqlite_uri(path: Path, **params: str) -> str:
    """`file:PATH?k=v` with the path quoted (a name may hold `?` or `#`)."""
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"file:{quote(str(path))}" + (f"?{query}" if query else "")


def quick_check(
    path: Path | str,
    *,
    uri: bool = False,
    connected: Callable[[sqlite3.Connection], None] | None = None,
) -> list[str]:
    """The problems `PRAGMA quick_check` finds (an empty list: the file is sound).
    `connected` is handed the connection first (so another thread may interrupt it)."""
    try:
        conn = sqlite3.connect(str(path), uri=uri, timeout=5.0, check_same_thread=False)
    except sqlite3.Error as exc:
        return [str(exc)]
    if connected is not None:
        connected(conn)
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    finally:
        conn.close()
    return [] if rows == ["ok"] else rows


def online_copy(source: Path, dest: Path) -> None:
    """A consistent copy of `source` (WAL included) made while others write to it."""
    src = sqlite3.connect(sqlite_uri(source, mode="ro"), uri=True, timeout=30.0)
    try:
        dst = sqlite3.connect(str(dest))
        try:
            src.backup(dst)
            # A backup is one file: no -wal or -shm to carry beside it.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def _parse(db_path: Path, file: Path) -> Backup | None:
    prefix = f"{db_path.name}."
    name = file.name
    if not name.startswith(prefix):
        return None
    rest = name[len(prefix) :]
    verified = rest.endswith(SUFFIX)
    for end in (SUFFIX, FAILED):
        if rest.endswith(end):
            rest = rest[: -len(end)]
            break
    else:
        return None
    stamp, _, reason = rest.partition(".")
    try:
        at = datetime.strptime(stamp, STAMP)  # naive UTC, as domain.clock.utcnow
    except ValueError:
        return None
    return Backup(file, at, verified, reason or "scheduled", file.stat().st_size)


def list_backups(db_path: Path) -> list[Backup]:
    """Every backup of `db_path`, newest first (failed ones too, marked unverified)."""
    folder = backup_dir(db_path)
    if not folder.is_dir():
        return []
    found = [b for f in folder.iterdir() if (b := _parse(db_path, f)) is not None]
    return sorted(found, key=lambda b: b.taken_at, reverse=True)


def newest_verified(db_path: Path) -> Backup | None:
    return next((b for b in list_backups(db_path) if b.verified), None)


def take_backup(db_path: Path, *, reason: str = "manual", keep: int | None = None) -> Backup:
    """Copy, verify, then prune to the newest `keep` verified copies (None: no pruning)."""
    folder = backup_dir(db_path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseUnreachable(f"cannot create the backup folder {folder}: {exc.strerror}")
    stamp = utcnow().strftime(STAMP)
    base = folder / f"{db_path.name}.{stamp}.{reason}"
    partial = base.with_name(base.name + PARTIAL)
    try:
        online_copy(db_path, partial)
    except (sqlite3.Error, OSError) as exc:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise DatabaseUnreachable(f"backup of {db_path} to {folder} failed: {exc}")
    problems = quick_check(partial)
    final = base.with_name(base.name + (FAILED if problems else SUFFIX))
    os.replace(partial, final)
    backup = _parse(db_path, final)
    assert backup is not None
    if problems:
        log.error("backup %s failed its check: %s", final, problems[0])
        return backup
    if keep is not None:
        prune(db_path, keep)
    return backup


def prune(db_path: Path, keep: int) -> list[Path]:
    """Delete verified backups past the newest `keep`, and failed ones older than them."""
    backups = list_backups(db_path)
    good = [b for b in backups if b.verified]
    if len(good) <= keep:
        return []
    oldest_kept = good[keep - 1].taken_at if keep > 0 else datetime.max
    gone = [b.path for b in good[keep:]]
    gone += [b.path for b in backups if not b.verified and b.taken_at < oldest_kept]
    for path in gone:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return gone


def due(db_path: Path, every: timedelta, now: datetime | None = None) -> bool:
    newest = newest_verified(db_path)
    return newest is None or (now or utcnow()) - newest.taken_at >= every


# The engine's lock ----------------------------------------------------------


def _lock_path(db_path: Path) -> Path:
    return db_path.with_name(f"{db_path.name}.engine-lock")


@contextlib.contextmanager
def engine_lock(db_path: Path) -> Iterator[None]:
    """Held (shared) while an engine runs on `db_path`; gone when its process dies."""
    try:
        fd = os.open(_lock_path(db_path), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:  # a read-only folder: nothing to restore into anyway
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _no_engine(db_path: Path) -> Iterator[None]:
    lock = _lock_path(db_path)
    if not lock.exists():
        yield
        return
    fd = os.open(lock, os.O_RDWR)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PolicyRefused(
                f"an engine is running on {db_path}: stop it (and close the window) "
                "before restoring; nothing was changed"
            )
        yield
    finally:
        os.close(fd)


# Restore --------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    backup: Backup
    set_aside: Path | None  # where the replaced file went


def pick(db_path: Path, given: str | None) -> Backup:
    """The backup named (a path or a file name in the backup folder), else the newest
    verified one."""
    if given is None:
        newest = newest_verified(db_path)
        if newest is None:
            raise BadInput(f"no verified backup of {db_path} in {backup_dir(db_path)}")
        return newest
    path = Path(given).expanduser()
    if not path.exists():
        path = backup_dir(db_path) / given
    if not path.is_file():
        raise BadInput(f"no backup {given!r} (see `db backups`)")
    parsed = _parse(db_path, path)
    at = (
        parsed.taken_at
        if parsed
        else datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
    )
    return Backup(path, at, parsed.verified if parsed else False, "given", path.stat().st_size)


def restore(db_path: Path, backup: Backup) -> Restored:
    """Put `backup` in place of `db_path`; the current file (and its -wal, -shm) is
    moved aside as `NAME.corrupt-STAMP`. Refused while an engine runs on it."""
    problems = quick_check(backup.path)
    if problems:
        raise BadInput(f"backup {backup.path} fails its check ({problems[0]}): not restored")
    with _no_engine(db_path):
        staged = db_path.with_name(f"{db_path.name}.restoring")
        shutil.copyfile(backup.path, staged)
        aside = None
        if db_path.exists():
            aside = db_path.with_name(f"{db_path.name}.corrupt-{utcnow().strftime(STAMP)}")
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.replace(f"{db_path}{suffix}", f"{aside}{suffix}")
        os.replace(staged, db_path)
    return Restored(backup, aside)


# The schedule (the engine's backup thread) ---------------------------------------


def schedule_settings() -> tuple[float, int]:
    """(every N hours, keep N) from the settings, with their defaults."""
    values = {
        s.key: s.value for s in Setting.select().where(Setting.key.in_([EVERY_HOURS_KEY, KEEP_KEY]))
    }
    try:
        every = float(values.get(EVERY_HOURS_KEY, DEFAULT_EVERY_HOURS))
        keep = int(values.get(KEEP_KEY, DEFAULT_KEEP))
    except (TypeError, ValueError):
        every, keep = DEFAULT_EVERY_HOURS, DEFAULT_KEEP
    return max(every, 0.01), max(keep, 1)


def run_schedule(
    db_path: Path,
    stop: threading.Event,
    settings: Callable[[], tuple[float, int]],
) -> None:
    """Until `stop`: take a backup whenever the newest verified one is older than the
    setting says (so also at start when it is), keeping the newest N."""
    with engine_lock(db_path):
        while not stop.is_set():
            wait_s = 60.0
            try:
                every_h, keep = settings()
                every = timedelta(hours=every_h)
                if due(db_path, every):
                    backup = take_backup(db_path, reason="scheduled", keep=keep)
                    log.info("backup taken: %s", backup.path)
                newest = newest_verified(db_path)
                if newest is not None:
                    left = (newest.taken_at + every - utcnow()).total_seconds()
                    wait_s = min(max(left, 1.0), 3600.0)
            except Exception:
                log.exception("scheduled backup of %s failed; trying again in a minute", db_path)
            stop.wait(wait_s)
