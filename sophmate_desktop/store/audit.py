"""The hash-chained audit log.

hash = sha256(prev_hash || canonical(event)), where canonical is a compact JSON
array of the event's fields followed by its details as stored (already canonical:
sorted keys, no spaces). Appends lock the one-row chain head, so two processes
never fork the chain; call `append` inside `write_transaction`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import peewee

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.store import sql
from sophmate_desktop.store.audit_key import cached_key, event_mac
from sophmate_desktop.store.database import is_sqlite
from sophmate_desktop.store.models import GENESIS_HASH, AuditEvent, AuditHead

EXPORT_FIELDS = (
    "id",
    "at",
    "actor",
    "action",
    "subject",
    "category",
    "workflow",
    "run",
    "reason",
    "details",
    "prev_hash",
    "hash",
    "mac",
)


def iso_at(value: datetime | None = None) -> str:
    value = value or utcnow()
    if value.tzinfo is not None:  # store naive UTC, like every other timestamp
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"


def canonical_details(details: dict[str, Any] | None) -> str:
    return json.dumps(details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _make_head_chunks() -> Callable[[tuple, int], Sequence[str]]:
    """`"".join(chunks(fields, 0))` equals json.dumps(fields, separators=(",", ":"),
    ensure_ascii=False).

    json.dumps builds a new encoder on every call, a third of the cost of verify();
    this builds the C encoder once (falling back to a reused JSONEncoder).
    """
    encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

    def fallback(fields: tuple, _level: int) -> Sequence[str]:
        return (encode(fields),)

    def refuse(value: Any) -> Any:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    try:
        c_encoder = json.encoder.c_make_encoder(  # type: ignore[attr-defined]
            None, refuse, json.encoder.encode_basestring, None, ":", ",", False, False, True
        )
        sample = (1, "2025-01-01T00:00:00.000000Z", 'a"\\\n\x01é✓', "", None, 7, 1.5, True)
        if "".join(c_encoder(sample, 0)) == encode(sample):
            return c_encoder
    except (AttributeError, TypeError):  # no C accelerator, or another signature
        pass
    return fallback


_head_chunks = _make_head_chunks()


def encode_head(fields: tuple) -> str:
    """The JSON array of an event's fields, as hashed."""
    return "".join(_head_chunks(fields, 0))


def event_hash(prev_hash: str, fields: tuple, details_text: str) -> str:
    """fields = (id, at, actor, action, subject, category, workflow, run, reason)."""
    head = encode_head(fields)
    return hashlib.sha256(f"{prev_hash}{head}\n{details_text}".encode()).hexdigest()


@dataclass(frozen=True)
class NewEvent:
    actor: str
    action: str
    subject: str = ""
    category: str | None = None
    workflow: str | None = None
    run: int | None = None
    details: dict[str, Any] | None = None
    reason: str | None = None
    at: datetime | None = None


_COLUMNS = (
    "id",
    "at",
    "actor",
    "action",
    "subject",
    "category",
    "workflow",
    "run",
    "reason",
    "details",
    "prev_hash",
    "hash",
    "mac",
)


def _text(value: Any) -> str | None:
    # What the text columns store (peewee's adaptation), so the hash covers exactly that;
    # a str is stored as it is (the common case, on every event's path).
    if value is None or value.__class__ is str:
        return value
    return AuditEvent.actor.adapt(value)


def _lock_head(db: peewee.Database) -> tuple[int, str]:
    if not db.in_transaction():
        raise RuntimeError("audit events must be appended inside write_transaction(db)")
    query = AuditHead.select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == 1)
    if not is_sqlite(db):
        query = query.for_update()
    return query.tuples().get()


def _rows(
    events: Iterable[NewEvent], last_id: int, last_hash: str, key: bytes | None = None
) -> list[tuple]:
    """The rows to insert, in _COLUMNS order, each hashed onto the one before (and
    MACed under the audit key when this process has it)."""
    rows = []
    for ev in events:
        last_id += 1
        fields = (
            last_id,
            iso_at(ev.at),
            _text(ev.actor),
            _text(ev.action),
            _text(ev.subject),
            _text(ev.category),
            _text(ev.workflow),
            None if ev.run is None else int(ev.run),
            _text(ev.reason),
        )
        details_text = canonical_details(ev.details)
        digest = event_hash(last_hash, fields, details_text)
        mac = None if key is None else event_mac(key, digest)
        rows.append((*fields, details_text, last_hash, digest, mac))
        last_hash = digest
    return rows


def append(db: peewee.Database, event: NewEvent | None = None, /, **fields: Any) -> int:
    """Append one event (inside the caller's write transaction on `db`); returns its id."""
    if event is not None and fields:
        raise TypeError("append() takes a NewEvent or keyword fields, not both")
    ev = event or NewEvent(**fields)
    return append_many(db, [ev])[-1]


def append_many(db: peewee.Database, events: Iterable[NewEvent], chunk: int = 1000) -> list[int]:
    """Append events in order, in the caller's write transaction on `db`; returns their ids."""
    last_id, last_hash = _lock_head(db)
    rows = _rows(events, last_id, last_hash, cached_key(db))
    if not rows:
        return []
    sql.insert_audit_rows(db, _COLUMNS, rows, chunk)
    AuditHead.update(last_id=rows[-1][0], last_hash=rows[-1][-2]).where(AuditHead.id == 1).execute()
    return [row[0] for row in rows]


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    problem: str = ""

    def describe(self) -> str:
        if self.ok:
            return f"audit trail intact: {self.checked} events verified"
        return f"audit trail broken at event {self.first_bad_id}: {self.problem}"


# On SQLite each row comes as (id, prev_hash, hash, the text hashed), built in C by
# json_array; a row it writes differently (a REAL, say) is rechecked in Python, so a
# mismatch of encoders can only cost time, never pass an edited event.


def _read_head() -> tuple[int, str]:
    return (
        AuditHead.select(AuditHead.last_id, AuditHead.last_hash)
        .where(AuditHead.id == 1)
        .tuples()
        .get()
    )


def _payload_row(row: tuple) -> tuple[int, str, str, str | None]:
    """A row of _CONTENT_SQL as (id, prev_hash, hash, the text hashed)."""
    try:
        payload = f"{row[10]}{''.join(_head_chunks(row[:9], 0))}\n{row[9]}"
    except TypeError:  # a column rewritten with a value of another type
        payload = None
    return row[0], row[10], row[11], payload


def _python_digest(db: peewee.Database, ev_id: int) -> str | None:
    row = sql.audit_page(db, _COLUMNS, ev_id - 1, 1, hashed_in_sql=False).fetchone()
    payload = None if row is None or row[0] != ev_id else _payload_row(row)[3]
    return None if payload is None else hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class _Walk:
    """Where verify's walk along the chain has got to."""

    head_id: int
    in_sql: bool
    hash_at_head: str | None
    expected_prev: str = GENESIS_HASH
    expected_id: int = 1
    disagreements: int = 0

    def page(self, db: peewee.Database, batch: int) -> VerifyResult | None:
        """Check up to `batch` events from expected_id on; the first mismatch, if any."""
        cursor = sql.audit_page(
            db, _COLUMNS, self.expected_id - 1, batch, hashed_in_sql=self.in_sql
        )
        rows = cursor if self.in_sql else map(_payload_row, cursor)
        for ev_id, prev, digest, payload in rows:
            bad, recheck = self._check(db, ev_id, prev, digest, payload)
            if bad is not None:
                return bad
            if recheck and self.in_sql:
                self.disagreements += 1
                if self.disagreements > 100:  # this SQLite writes JSON its own way
                    self.in_sql = False
                    break
        return None

    def _check(
        self, db: peewee.Database, ev_id: int, prev: str, digest: str, payload: str | None
    ) -> tuple[VerifyResult | None, bool]:
        """(the mismatch or None, whether the digest had to be rechecked in Python)."""
        if ev_id != self.expected_id:
            return VerifyResult(
                False,
                self.expected_id - 1,
                self.expected_id,
                f"event {self.expected_id} is missing (next is {ev_id})",
            ), False
        if prev != self.expected_prev:
            return VerifyResult(
                False,
                ev_id - 1,
                ev_id,
                "its prev_hash does not match the event before it (deleted, reordered or edited)",
            ), False
        recheck = payload is None or hashlib.sha256(payload.encode()).hexdigest() != digest
        if recheck and _python_digest(db, ev_id) != digest:
            return VerifyResult(
                False, ev_id - 1, ev_id, "its content does not match its hash (edited)"
            ), recheck
        if ev_id == self.head_id:
            self.hash_at_head = digest
        self.expected_prev = digest
        self.expected_id += 1
        return None, recheck


def _head_mismatch(walk: _Walk, head_hash: str) -> VerifyResult | None:
    checked = walk.expected_id - 1
    if checked < walk.head_id:
        return VerifyResult(
            False,
            checked,
            checked + 1,
            f"the chain head records {walk.head_id} events; {checked} found "
            "(events removed from the end?)",
        )
    if walk.hash_at_head != head_hash:
        return VerifyResult(
            False,
            checked,
            walk.head_id,
            "its hash does not match the one the chain head records (rewritten?)",
        )
    return None


def verify(db: peewee.Database, batch: int = 50_000) -> VerifyResult:
    """Walk the chain from the start; report the first event that does not match.

    The head is read before the walk and again after it: events appended meanwhile
    (which commit together with the head) are verified too and never look like a gap.
    """
    head_id, head_hash = _read_head()
    walk = _Walk(head_id, is_sqlite(db), GENESIS_HASH if head_id == 0 else None)
    while True:
        first = walk.expected_id
        try:
            bad = walk.page(db, batch)
        except (sqlite3.OperationalError, peewee.OperationalError):
            if not walk.in_sql:
                raise
            # No JSON functions in this SQLite, or a BLOB where text belongs: go on in Python.
            walk.in_sql = False
            continue
        if bad is not None:
            return bad
        if walk.expected_id == first:
            break
    bad = _head_mismatch(walk, head_hash)
    if bad is not None:
        return bad
    checked = walk.expected_id - 1
    last_recorded = _read_head()[0]
    if checked > last_recorded:
        return VerifyResult(
            False,
            last_recorded,
            last_recorded + 1,
            f"the chain head records {last_recorded} events; {checked} found "
            "(events added without going through the audit log)",
        )
    return VerifyResult(True, checked)


def iter_events(query=None) -> Iterator[dict[str, Any]]:
    query = query if query is not None else AuditEvent.select().order_by(AuditEvent.id)
    yield from query.dicts().iterator()


def export_jsonl(out: TextIO, query=None) -> int:
    count = 0
    for ev in iter_events(query):
        out.write(json.dumps({k: ev[k] for k in EXPORT_FIELDS}, ensure_ascii=False) + "\n")
        count += 1
    return count


def export_csv(out: TextIO, query=None) -> int:
    writer = csv.writer(out)
    writer.writerow(EXPORT_FIELDS)
    count = 0
    for ev in iter_events(query):
        row = [ev[k] for k in EXPORT_FIELDS]
        row[EXPORT_FIELDS.index("details")] = canonical_details(ev["details"])
        writer.writerow(row)
        count += 1
    return count


def export_text(fmt: str, query=None) -> str:
    buf = io.StringIO()
    (export_jsonl if fmt == "jsonl" else export_csv)(buf, query)
    return buf.getvalue()
