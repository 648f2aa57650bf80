"""The hash-chained audit log (DESIGN section 9): append, verify names tampering,
exports parse back, appends from threads and processes never fork the chain."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sophmate_desktop.domain.enums import RunStatus
from sophmate_desktop.store import audit, queries
from sophmate_desktop.store.audit import EXPORT_FIELDS, NewEvent
from sophmate_desktop.store.database import is_sqlite, write_transaction
from sophmate_desktop.store.models import GENESIS_HASH, AuditEvent, AuditHead

REPO_ROOT = Path(__file__).resolve().parents[2]
HEAD_FIELDS = EXPORT_FIELDS[:9]  # what event_hash covers besides details
CONTENT = ("at", "actor", "action", "subject", "category", "workflow", "run", "details", "reason")


def sample_events(n: int) -> list[NewEvent]:
    return [
        NewEvent(
            actor=("ana", "engine", "Zoë")[i % 3],
            action=("write.approved", "run.started", "category.paused")[i % 3],
            subject=f"write {i}",
            category="finance" if i % 2 else None,
            workflow="invoice-intake" if i % 3 else "payroll",
            run=i if i % 4 else None,
            details={"seq": i, "note": "naïve café ✓ 日本語 🎉", "tags": ["a", None, True]},
            reason='checked, "quoted"\nsecond line' if i % 5 == 0 else None,
        )
        for i in range(n)
    ]


def fill(db, n: int = 10) -> list[int]:
    with write_transaction(db):
        return audit.append_many(db, sample_events(n))


def execute(db, sql: str, *params) -> None:
    with db.atomic():
        db.execute_sql(sql.replace("?", db.param), params)


def fetch(db, sql: str, *params) -> list[tuple]:
    return list(db.execute_sql(sql.replace("?", db.param), params).fetchall())


def one_char_changed(text: str) -> str:
    i = next(i for i, ch in enumerate(text) if ch.isalnum())
    return text[:i] + ("x" if text[i] != "x" else "y") + text[i + 1 :]


def all_ids() -> list[int]:
    return [i for (i,) in AuditEvent.select(AuditEvent.id).order_by(AuditEvent.id).tuples()]


# Append and verify -----------------------------------------------------------


def test_append_links_each_event_to_the_one_before(db) -> None:
    assert audit.verify(db) == audit.VerifyResult(True, 0)
    ids = fill(db, 10)
    with write_transaction(db):
        one = audit.append(db, actor="bo", action="review.done", details={"b": 1, "a": 2})
        two = audit.append(db, NewEvent(actor="bo", action="review.done"))
        assert audit.append_many(db, []) == []
    assert ids == list(range(1, 11)) and (one, two) == (11, 12)
    rows = list(AuditEvent.select().order_by(AuditEvent.id))
    assert rows[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in pairwise(rows))
    assert len({r.hash for r in rows}) == 12
    assert rows[10].details == {"a": 2, "b": 1} and rows[11].details == {}
    assert rows[3].details["note"] == "naïve café ✓ 日本語 🎉"
    assert rows[0].at.endswith("Z") and datetime.fromisoformat(rows[0].at[:-1])
    head = AuditHead.get_by_id(1)
    assert (head.last_id, head.last_hash) == (12, rows[-1].hash)
    result = audit.verify(db)
    assert result == audit.VerifyResult(True, 12)
    assert result.describe() == "audit trail intact: 12 events verified"
    assert audit.verify(db, batch=5) == audit.VerifyResult(True, 12)  # across pages


def test_a_rolled_back_append_leaves_no_trace(db) -> None:
    fill(db, 3)
    with pytest.raises(ZeroDivisionError), write_transaction(db):
        audit.append(db, actor="ana", action="doomed")
        raise ZeroDivisionError
    assert AuditHead.get_by_id(1).last_id == 3
    with write_transaction(db):
        assert audit.append(db, actor="ana", action="kept") == 4
    assert audit.verify(db) == audit.VerifyResult(True, 4)


def test_append_outside_a_write_transaction_is_refused(db) -> None:
    with pytest.raises(RuntimeError, match="write_transaction"):
        audit.append(db, actor="ana", action="loose")
    with pytest.raises(TypeError, match="not both"), write_transaction(db):
        audit.append(db, NewEvent(actor="ana", action="x"), actor="bo")
    assert AuditEvent.select().count() == 0


def test_values_are_hashed_as_the_columns_store_them(db) -> None:
    cest = timezone(timedelta(hours=2))
    with write_transaction(db):
        event_id = audit.append(
            db,
            actor="ana",
            action=RunStatus.HELD,
            run="7",  # e.g. straight from a command-line argument
            at=datetime(2025, 3, 1, 12, 0, tzinfo=cest),
        )
    row = AuditEvent.get_by_id(event_id)
    assert (row.action, row.run, row.at) == ("held", 7, "2025-03-01T10:00:00.000000Z")
    assert audit.verify(db).ok


# Tampering -------------------------------------------------------------------


@pytest.mark.parametrize("column", ["details", "actor"])
def test_one_edited_character_names_the_event(db, column: str) -> None:
    fill(db, 10)
    [(value,)] = fetch(db, f"SELECT {column} FROM audit_event WHERE id = ?", 6)
    execute(db, f"UPDATE audit_event SET {column} = ? WHERE id = ?", one_char_changed(value), 6)
    result = audit.verify(db)
    assert not result.ok
    assert (result.first_bad_id, result.checked) == (6, 5)
    assert "content does not match its hash" in result.problem
    assert result.describe().startswith("audit trail broken at event 6:")


@pytest.mark.parametrize("victim", [1, 4])
def test_a_deleted_event_is_named_as_the_gap(db, victim: int) -> None:
    fill(db, 10)
    execute(db, "DELETE FROM audit_event WHERE id = ?", victim)
    result = audit.verify(db)
    assert not result.ok and result.first_bad_id == victim
    assert result.problem == f"event {victim} is missing (next is {victim + 1})"


@pytest.mark.parametrize("with_hashes", [True, False], ids=["whole-rows", "content-only"])
def test_two_swapped_events_are_named(db, with_hashes: bool) -> None:
    fill(db, 10)
    columns = CONTENT + (("prev_hash", "hash") if with_hashes else ())
    select = f"SELECT {', '.join(columns)} FROM audit_event WHERE id = ?"
    [third], [seventh] = fetch(db, select, 3), fetch(db, select, 7)
    update = f"UPDATE audit_event SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?"
    execute(db, update, *seventh, 3)
    execute(db, update, *third, 7)
    assert [e.subject for e in AuditEvent.select().order_by(AuditEvent.id)][2:7:4] == [
        "write 6",
        "write 2",
    ]
    result = audit.verify(db)
    assert not result.ok and result.first_bad_id == 3
    expected = "prev_hash does not match" if with_hashes else "content does not match"
    assert expected in result.problem


def test_a_deleted_last_event_is_caught_by_the_chain_head(db) -> None:
    fill(db, 10)
    execute(db, "DELETE FROM audit_event WHERE id = ?", 10)
    result = audit.verify(db)
    assert not result.ok and result.first_bad_id == 10
    assert "chain head records 10 events; 9 found" in result.problem


def test_a_rewritten_and_rehashed_last_event_is_caught_by_the_chain_head(db) -> None:
    fill(db, 10)
    [row] = fetch(db, f"SELECT {', '.join(EXPORT_FIELDS)} FROM audit_event WHERE id = ?", 10)
    record = dict(zip(EXPORT_FIELDS, row, strict=True))
    record["actor"] = "mallory"
    forged = audit.event_hash(
        record["prev_hash"], tuple(record[k] for k in HEAD_FIELDS), record["details"]
    )
    execute(db, "UPDATE audit_event SET actor = ?, hash = ? WHERE id = ?", "mallory", forged, 10)
    result = audit.verify(db)
    assert not result.ok and result.first_bad_id == 10
    assert "chain head" in result.problem


def test_an_event_inserted_behind_the_logs_back_is_named(db) -> None:
    ids = fill(db, 3)
    prev = AuditHead.get_by_id(1).last_hash
    at = audit.iso_at()
    fields = (ids[-1] + 1, at, "mallory", "write.approved", "", None, None, None, None)
    digest = audit.event_hash(prev, fields, "{}")
    execute(
        db,
        f"INSERT INTO audit_event ({', '.join(EXPORT_FIELDS[:12])}) VALUES ({', '.join('?' * 12)})",
        *fields,
        "{}",
        prev,
        digest,
    )
    result = audit.verify(db)
    assert not result.ok and result.first_bad_id == 4
    assert "without going through the audit log" in result.problem


def rehash_chain(db) -> None:
    """Recompute every hash from the stored content, as a forger with write access could."""
    prev = GENESIS_HASH
    for row in fetch(db, f"SELECT {', '.join(EXPORT_FIELDS)} FROM audit_event ORDER BY id"):
        rec = dict(zip(EXPORT_FIELDS, row, strict=True))
        digest = audit.event_hash(prev, tuple(rec[k] for k in HEAD_FIELDS), rec["details"])
        execute(
            db,
            "UPDATE audit_event SET prev_hash = ?, hash = ? WHERE id = ?",
            prev,
            digest,
            rec["id"],
        )
        prev = digest
    execute(db, "UPDATE audit_head SET last_hash = ? WHERE id = 1", prev)


def test_sqlite_rows_json_array_writes_differently_are_rechecked(sqlite_db) -> None:
    """SQLite builds the hashed text in C; where it differs from Python, Python decides."""
    fill(sqlite_db, 150)
    execute(sqlite_db, "UPDATE audit_event SET run = 1e20 + id")  # REAL: 1.0e+20 vs 1e+20
    rehash_chain(sqlite_db)
    [(sql_json,)] = fetch(sqlite_db, "SELECT json_array(run) FROM audit_event WHERE id = 1")
    assert sql_json != json.dumps([1e20 + 1])  # so every row goes through the recheck
    assert audit.verify(sqlite_db) == audit.VerifyResult(True, 150)
    assert audit.verify(sqlite_db, batch=40) == audit.VerifyResult(True, 150)
    execute(sqlite_db, "UPDATE audit_event SET actor = 'mallory' WHERE id = 140")
    result = audit.verify(sqlite_db, batch=40)
    assert not result.ok and result.first_bad_id == 140


def test_sqlite_blob_where_text_belongs_is_named(sqlite_db) -> None:
    fill(sqlite_db, 5)
    execute(sqlite_db, "UPDATE audit_event SET actor = CAST(actor AS BLOB) WHERE id = 2")
    result = audit.verify(sqlite_db)
    assert not result.ok and result.first_bad_id == 2
    assert "content does not match its hash" in result.problem


def test_verify_during_appends_raises_no_false_alarm(db) -> None:
    """Appends commit events and head together: a verify racing them sees no gap."""
    stop, appended, errors = threading.Event(), [0], []

    def writer() -> None:
        try:
            with db.connection_context():
                while not stop.is_set():
                    with write_transaction(db):
                        audit.append(db, actor="engine", action="tick")
                    appended[0] += 1
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    alarms, runs, deadline = [], 0, time.monotonic() + 60
    try:
        while (
            (runs < 150 or appended[0] < 150) and time.monotonic() < deadline and thread.is_alive()
        ):
            result = audit.verify(db, batch=20)
            runs += 1
            if not result.ok:
                alarms.append(result.describe())
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not errors and not alarms[:3]
    assert runs >= 150 and appended[0] >= 150
    assert audit.verify(db) == audit.VerifyResult(True, appended[0])


# Export ----------------------------------------------------------------------


def stored_records() -> list[dict]:
    return list(AuditEvent.select().order_by(AuditEvent.id).dicts())


def test_jsonl_export_parses_back_to_every_field(db, tmp_path: Path) -> None:
    fill(db, 12)
    path = tmp_path / "audit.jsonl"
    with path.open("w", encoding="utf-8") as out:
        assert audit.export_jsonl(out) == 12
    text = path.read_text(encoding="utf-8")
    assert "日本語 🎉" in text  # written as text, not \u escapes
    records = [json.loads(line) for line in text.splitlines()]
    assert [list(r) for r in records] == [list(EXPORT_FIELDS)] * 12
    assert records == stored_records()
    prev = GENESIS_HASH  # the export alone is enough to re-check the chain
    for rec in records:
        fields = tuple(rec[k] for k in HEAD_FIELDS)
        assert rec["prev_hash"] == prev
        assert (
            audit.event_hash(prev, fields, audit.canonical_details(rec["details"])) == rec["hash"]
        )
        prev = rec["hash"]
    buf = io.StringIO()
    query = queries.audit_query(workflow="payroll").order_by(AuditEvent.id)
    assert audit.export_jsonl(buf, query) == 4
    assert [json.loads(line)["id"] for line in buf.getvalue().splitlines()] == [1, 4, 7, 10]
    assert audit.export_text("jsonl") == text


def test_csv_export_parses_back_to_every_field(db, tmp_path: Path) -> None:
    fill(db, 12)
    path = tmp_path / "audit.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        assert audit.export_csv(out) == 12
    with path.open(encoding="utf-8", newline="") as src:
        reader = csv.DictReader(src)
        assert tuple(reader.fieldnames or ()) == EXPORT_FIELDS
        rows = list(reader)
    stored = stored_records()
    assert len(rows) == len(stored) == 12
    for row, rec in zip(rows, stored, strict=True):
        assert json.loads(row["details"]) == rec["details"]
        assert row["details"] == audit.canonical_details(rec["details"])
        expected = {k: "" if v is None else str(v) for k, v in rec.items() if k != "details"}
        assert {k: v for k, v in row.items() if k != "details"} == expected
    assert rows[0]["reason"] == 'checked, "quoted"\nsecond line'
    assert "naïve café ✓ 日本語 🎉" in rows[1]["details"]
    query = queries.audit_query(category="finance").order_by(AuditEvent.id)
    assert audit.export_csv(io.StringIO(), query) == 6
    assert audit.export_text("csv").splitlines()[0] == ",".join(EXPORT_FIELDS)


# Serialization ---------------------------------------------------------------


def assert_one_chain(db, total: int, windows: dict[str, tuple[float, float]]) -> None:
    """One unforked chain; each appender's events in its order; the appenders overlapped."""
    assert all_ids() == list(range(1, total + 1))
    assert audit.verify(db) == audit.VerifyResult(True, total)
    prevs = [p for (p,) in AuditEvent.select(AuditEvent.prev_hash).tuples()]
    assert len(set(prevs)) == total  # a fork would give two events the same parent
    spans = []
    for actor in windows:
        rows = list(AuditEvent.select().where(AuditEvent.actor == actor).order_by(AuditEvent.id))
        assert [r.details["i"] for r in rows] == list(range(total // 2))
        spans.append((rows[0].id, rows[-1].id))
    (a_start, a_end), (b_start, b_end) = windows.values()
    assert a_start < b_end and b_start < a_end, f"the appenders did not overlap: {windows}"
    if not is_sqlite(db):
        # PostgreSQL queues lock waiters, so the appends interleave. SQLite's busy
        # handler polls, and a writer that commits and begins again usually wins:
        # one appender tends to wait until the other is done.
        (a_first, a_last), (b_first, b_last) = spans
        assert a_first < b_last and b_first < a_last, f"appends did not interleave: {spans}"


def test_two_threads_appending_make_one_chain(db) -> None:
    barrier, errors, windows = threading.Barrier(2), [], {}

    def work(actor: str) -> None:
        try:
            with db.connection_context():
                barrier.wait(timeout=30)
                started = time.monotonic()
                for i in range(500):
                    with write_transaction(db):
                        audit.append(db, actor=actor, action="thread.tick", details={"i": i})
                windows[actor] = (started, time.monotonic())
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(name,)) for name in ("t-one", "t-two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)
    assert_one_chain(db, 1000, dict(sorted(windows.items())))


APPENDER = """
import json, sys, time
from pathlib import Path
from sophmate_desktop.store import audit
from sophmate_desktop.store.database import open_database, write_transaction

url, actor, ready, go = sys.argv[1:5]
db = open_database(url)
Path(ready).touch()
deadline = time.monotonic() + 60
while not Path(go).exists():
    if time.monotonic() > deadline:
        sys.exit("no start signal")
    time.sleep(0.002)
started = time.monotonic()  # system-wide clock: comparable between processes
for i in range(300):
    with write_transaction(db):
        audit.append(db, actor=actor, action="process.tick", details={"i": i})
print(json.dumps([started, time.monotonic()]))
db.close()
"""


def test_two_processes_appending_make_one_chain(db, db_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    go = tmp_path / "go"
    procs, windows = {}, {}
    for actor in ("p-one", "p-two"):
        ready = tmp_path / f"{actor}.ready"
        args = [sys.executable, "-c", APPENDER, db_url, actor, str(ready), str(go)]
        procs[actor] = (
            subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE),
            ready,
        )
    try:
        deadline = time.monotonic() + 60
        while not all(ready.exists() for _, ready in procs.values()):
            assert all(p.poll() is None for p, _ in procs.values()), "an appender died early"
            assert time.monotonic() < deadline, "the appenders did not get ready"
            time.sleep(0.01)
        go.touch()
        for actor, (proc, _) in procs.items():
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, f"{actor}: {err.decode()}"
            windows[actor] = tuple(json.loads(out))
    finally:
        for proc, _ in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert_one_chain(db, 600, windows)


# Properties ------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


# One database for all examples: each adds an event and verifies the whole chain so far.
@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    details=st.dictionaries(st.text(max_size=12), json_values, max_size=6),
    subject=st.text(max_size=40),
)
def test_random_details_round_trip_and_verify(sqlite_db, details: dict, subject: str) -> None:
    with write_transaction(sqlite_db):
        event_id = audit.append(
            sqlite_db, actor="prop", action="prop.check", subject=subject, details=details
        )
    row = AuditEvent.get_by_id(event_id)
    assert (row.details, row.subject) == (details, subject)
    assert audit.verify(sqlite_db) == audit.VerifyResult(True, event_id)


@given(
    st.tuples(
        st.integers(),
        st.text(),
        st.text(),
        st.none() | st.text(),
        st.none() | st.integers(),
        st.none() | st.booleans(),
    )
)
def test_the_hashed_head_is_compact_json(fields: tuple) -> None:
    expected = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    assert audit.encode_head(fields) == expected
