"""Checkpoints of the audit chain head kept outside the database.

A checkpoint is one JSON line: (seq, hash, time, database identity, the first id
with a MAC) signed with the audit key (HMAC-SHA256, `store/audit_key.py`). They are
appended to a file in the data folder (next to the SQLite file; for PostgreSQL in
the local data folder) after commits: by the console after each state-changing call
and by the engine's monitor every few seconds, only when the head moved. The file
keeps the newest KEEP lines. Where the setting `audit.checkpoint_mirror` names a
folder (another disk) or an http(s):// URL, each checkpoint is also copied there (a
POST of the JSON line); `audit verify` reads the mirror back (the folder's file, or
a GET of the URL, which answers the lines it was sent, one per line), so a rollback of
both the database and the local checkpoint file still shows. Someone who rewrites the
database cannot move these back without the key, so `audit verify` compares the chain
with them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import weakref
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from peewee import Database, SqliteDatabase

from sophmate_desktop.store.audit import iso_at
from sophmate_desktop.store.audit_key import cached_key, key_id, sign
from sophmate_desktop.store.models import AuditEvent, AuditHead, Setting

log = logging.getLogger(__name__)

KEEP = 1000  # newest checkpoints kept in the file
MIRROR_SETTING = "audit.checkpoint_mirror"
MONITOR_EVERY_S = 2.0  # the engine writes at most this often
_MIRROR_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str
    db: str
    mac_from: int | None
    key_id: str = ""  # which audit key signed it (a checkpoint of another key is skipped)
    sig: str = ""

    def signed_text(self) -> str:
        fields = asdict(self)
        fields.pop("sig")
        return json.dumps(fields, sort_keys=True, separators=(",", ":"))

    def line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        data = json.loads(text)
        return cls(
            seq=int(data["seq"]),
            hash=str(data["hash"]),
            at=str(data["at"]),
            db=str(data["db"]),
            mac_from=None if data.get("mac_from") is None else int(data["mac_from"]),
            key_id=str(data.get("key_id", "")),
            sig=str(data.get("sig", "")),
        )


def identity(db: Database) -> str:
    """Which database: the SQLite file's absolute path, or PostgreSQL host:port/name."""
    if isinstance(db, SqliteDatabase):
        return "sqlite:" + os.path.abspath(db.database)
    params = getattr(db, "connect_params", {}) or {}
    return (
        f"postgresql://{params.get('host', 'localhost')}:{params.get('port', 5432)}/{db.database}"
    )


def default_path(db: Database) -> Path:
    if isinstance(db, SqliteDatabase):
        return Path(os.path.abspath(db.database) + ".checkpoints")
    from sophmate_desktop.store.database import default_data_dir

    tag = hashlib.sha256(identity(db).encode()).hexdigest()[:16]
    return default_data_dir() / "checkpoints" / f"{tag}.checkpoints"


def read(path: Path) -> tuple[list[Checkpoint], list[str]]:
    """(the checkpoints in the file, oldest first; lines that are not checkpoints)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], []
    return _parse(text, f"of {path}")


def _parse(text: str, where: str) -> tuple[list[Checkpoint], list[str]]:
    found: list[Checkpoint] = []
    bad: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            found.append(Checkpoint.parse(line))
        except (ValueError, KeyError, TypeError):
            bad.append(f"line {number} {where} is not a checkpoint")
    return found, bad


class MirrorUnreadable(Exception):
    """The HTTP mirror did not answer with its checkpoints (down, refused, an error)."""


def read_http_mirror(url: str) -> tuple[list[Checkpoint], list[str]]:
    """The checkpoints an HTTP mirror kept: a GET of `url` answers the lines it was
    POSTed, one per line (raises MirrorUnreadable saying why it could not be read)."""
    import urllib.error
    import urllib.request  # http.client, email, ssl: ~20 ms, only for a URL mirror

    request = urllib.request.Request(url, headers={"Accept": "application/x-ndjson"})
    try:
        with urllib.request.urlopen(request, timeout=_MIRROR_TIMEOUT_S) as resp:
            text = resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        raise MirrorUnreadable(f"it answered HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise MirrorUnreadable(str(exc.reason)) from exc
    except (OSError, ValueError) as exc:
        raise MirrorUnreadable(str(exc) or type(exc).__name__) from exc
    return _parse(text, f"from the mirror {url}")


def first_mac(db: Database) -> int | None:
    del db
    row = (
        AuditEvent.select(AuditEvent.id)
        .where(AuditEvent.mac.is_null(False))
        .order_by(AuditEvent.id)
        .limit(1)
        .tuples()
        .first()
    )
    return None if row is None else row[0]


class Checkpointer:
    """Writes the checkpoints of one database (one per database handle and process)."""

    _all: weakref.WeakKeyDictionary[Database, Checkpointer] = weakref.WeakKeyDictionary()
    _all_lock = threading.Lock()

    def __init__(self, db: Database, path: Path | None = None) -> None:
        self.db = db
        self.path = path or default_path(db)
        self._lock = threading.Lock()
        self._last: tuple[int, str] | None = None
        self._mac_from: int | None = None
        self._lines: int | None = None
        self._last_monitor = 0.0
        self.written = 0

    @classmethod
    def for_db(cls, db: Database) -> Checkpointer:
        with cls._all_lock:
            found = cls._all.get(db)
            if found is None:
                found = cls._all[db] = cls(db)
            return found

    def after_commit(self) -> Checkpoint | None:
        """Checkpoint the head if it moved since this process last did (never raises:
        a checkpoint that cannot be written is logged, the commit stands)."""
        try:
            return self._write_if_moved()
        except Exception:
            log.exception("could not write an audit checkpoint to %s", self.path)
            return None

    def monitor_tick(self) -> Checkpoint | None:
        now = time.monotonic()
        if now - self._last_monitor < MONITOR_EVERY_S:
            return None
        self._last_monitor = now
        return self.after_commit()

    def _write_if_moved(self) -> Checkpoint | None:
        key = cached_key(self.db)
        if key is None:
            return None
        with self._lock:
            head = AuditHead.select(AuditHead.last_id, AuditHead.last_hash).tuples().first()
            if head is None or head[0] == 0 or tuple(head) == self._last:
                return None
            if self._mac_from is None:
                self._mac_from = first_mac(self.db)
            point = Checkpoint(
                head[0], head[1], iso_at(), identity(self.db), self._mac_from, key_id(key)
            )
            point = Checkpoint(**{**asdict(point), "sig": sign(key, point.signed_text())})
            self._append(point.line())
            self._last = (head[0], head[1])
            self.written += 1
        self._mirror(point)
        return point

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._lines is None:
            self._lines = len(read(self.path)[0])
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self._lines += 1
        if self._lines > 2 * KEEP:
            self._trim()

    def _trim(self) -> None:
        lines = self.path.read_text(encoding="utf-8").splitlines()[-KEEP:]
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)
        self._lines = len(lines)

    def _mirror(self, point: Checkpoint) -> None:
        target = mirror_target(self.db)
        if target is None:
            return
        try:
            send_to_mirror(target, point, self.path.name)
        except Exception as exc:  # a mirror that is down must not stop the product
            log.warning("could not copy an audit checkpoint to %s: %s", target, exc)


def send_to_mirror(target: str, point: Checkpoint, name: str) -> None:
    """Append to `target`/`name` (a folder), or POST the line to `target` (a URL)."""
    if is_url(target):
        import urllib.request  # http.client, email, ssl: ~20 ms, only for a URL mirror

        request = urllib.request.Request(
            target,
            data=point.line().encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=_MIRROR_TIMEOUT_S) as resp:
            resp.read(1024)
        return
    folder = Path(target).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / name, "a", encoding="utf-8") as fh:
        fh.write(point.line() + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def mirror_target(db: Database) -> str | None:
    """The setting `audit.checkpoint_mirror`: a folder, an http(s) URL, or None."""
    del db
    row = Setting.get_or_none(Setting.key == MIRROR_SETTING)
    target: Any = None if row is None else row.value
    return str(target) if target else None


def is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def mirror_path(db: Database, path: Path) -> Path | None:
    """The mirror's checkpoint file, when the mirror is a folder."""
    target = mirror_target(db)
    if target is None or is_url(target):
        return None
    return Path(target).expanduser() / path.name


def http_mirror(db: Database) -> str | None:
    """The mirror's URL, when the mirror is an HTTP endpoint."""
    target = mirror_target(db)
    return target if target is not None and is_url(target) else None
