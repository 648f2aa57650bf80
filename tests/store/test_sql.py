"""Every statement of store/sql.py, on SQLite and on PostgreSQL."""

from __future__ import annotations

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.store import sql
from sophmate_desktop.store.database import is_sqlite, write_transaction
from sophmate_desktop.store.models import Category, LedgerEntry, Run, Switch, Workflow
from tests.support.factories import make_run, workflow_yaml


def test_paused_switches_lists_switches_and_categories(db, console) -> None:
    console.import_workflow(workflow_yaml())
    assert sql.paused_switches(db) == []
    console.pause_category("finance", "audit")
    console.pause_effect("email", "smtp down")
    rows = {(scope, name, by, why) for scope, name, by, why, _at in sql.paused_switches(db)}
    assert rows == {(None, "finance", "ana", "audit"), ("effect", "email", "ana", "smtp down")}
    assert Switch.get(Switch.name == "email").paused
    assert Category.get(Category.name == "finance").paused


def test_workflow_rows_and_ids(db, console) -> None:
    console.import_workflow(workflow_yaml("wf-one"))
    console.import_workflow(workflow_yaml("wf-two", category="ops"))
    ids = sql.workflow_ids(db)
    assert set(ids) == {"wf-one", "wf-two"}
    rows = sql.workflow_state_rows(db, ["wf-two", "missing"])
    assert [r[:5] for r in rows] == [(ids["wf-two"], "wf-two", "ops", 1, "dry_run")]
    assert not rows[0][5] and rows[0][6] is None
    assert sql.workflow_state_rows(db, []) == []


def test_ledger_insert_known_versions_and_links(db, console) -> None:
    console.import_workflow(workflow_yaml())
    wf = Workflow.get(Workflow.name == "wf-one")
    run = make_run(db, "wf-one", status="queued")
    insert = sql.RawInsert(LedgerEntry, ignore_conflicts=True)
    row = dict(workflow=wf.id, path="/in/a.txt", size=3, mtime_ns=7, sha256="ab", at=utcnow())
    with write_transaction(db):
        cursor = db.cursor()
        assert insert.insert_counted(db, cursor, row)
        assert not insert.insert_counted(db, cursor, row)  # the same version: ignored
        sql.link_ledger(db, cursor, [(run.id, wf.id, "/in/a.txt", 3, 7)])
        cursor.close()
    assert sql.known_versions(db, [(wf.id, "/in/a.txt"), (wf.id, "/in/b.txt")]) == {
        (wf.id, "/in/a.txt", 3, 7)
    }
    assert LedgerEntry.get(LedgerEntry.path == "/in/a.txt").run_id == run.id
    many = [(wf.id, f"/in/{i}.txt") for i in range(1200)]  # more than one chunk
    assert sql.known_versions(db, many) == set()


def test_raw_insert_returns_the_new_id(db, console) -> None:
    console.import_workflow(workflow_yaml())
    wf = Workflow.get(Workflow.name == "wf-one")
    insert = sql.RawInsert(Run)
    row = dict(
        workflow=wf.id,
        revision=1,
        trigger_kind="manual",
        mode="dry_run",
        status="queued",
        queued_at=utcnow(),
    )
    with write_transaction(db):
        cursor = db.cursor()
        first = insert.insert(db, cursor, row)
        second = insert.insert(db, cursor, row)
        cursor.close()
    assert first is not None and second == first + 1
    assert Run.get_by_id(second).status == "queued"
    assert Run.select().where(Run.id.in_(sql.id_list(db, [first, second]))).count() == 2


def test_data_version_counts_other_connections_commits(db, db_url) -> None:
    if not is_sqlite(db):
        assert sql.data_version(db) is None
        return
    import sqlite3

    before = sql.data_version(db)
    other = sqlite3.connect(db.database)
    try:
        with other:
            other.execute("CREATE TABLE scratch (x)")
    finally:
        other.close()
    assert sql.data_version(db) != before


def test_audit_pages_and_schema_reads(db, console) -> None:
    from sophmate_desktop.store.audit import _COLUMNS
    from sophmate_desktop.store.database import SCHEMA_TABLE

    console.import_workflow(workflow_yaml())  # two audit events
    rows = list(sql.audit_page(db, _COLUMNS, 0, 10, hashed_in_sql=False))
    assert [r[0] for r in rows] == [1, 2] and rows[0][3] == "category.created"
    assert len(list(sql.audit_page(db, _COLUMNS, 1, 10, hashed_in_sql=False))) == 1
    if is_sqlite(db):
        (first, prev, digest, payload), _ = sql.audit_page(db, _COLUMNS, 0, 10, hashed_in_sql=True)
        assert (first, prev, digest) == (1, rows[0][10], rows[0][11])
        assert payload.startswith(prev)
    assert sql.latest_migration(db, SCHEMA_TABLE)[0][:5].rstrip("_").isdigit()


def test_count_rows_through_a_plain_connection(sqlite_db, tmp_path) -> None:
    import sqlite3

    conn = sqlite3.connect(sqlite_db.database)
    try:
        assert sql.count_rows(conn, "audit_event") == 0
    finally:
        conn.close()


def test_run_states_figures_and_approved_writes_of(db, console) -> None:
    from sophmate_desktop.store.models import Write

    console.import_workflow(workflow_yaml())
    wf = Workflow.get(Workflow.name == "wf-one")
    runs = [make_run(db, "wf-one", status="running", mode="dry_run") for _ in range(2)]
    states = {row[0]: row[1:3] for row in sql.run_states(db, [r.id for r in runs] + [999999])}
    assert states == {r.id: ("running", "dry_run") for r in runs}
    (_, _, _, started) = sql.run_states(db, [runs[0].id])[0]
    assert Run.started_at.python_value(started) == runs[0].started_at
    insert = sql.RawInsert(Write)
    now = utcnow()
    rows = [
        dict(run=r.id, workflow=wf.id, category="finance", seq=1, kind="write_file",
             effect="file", target=f"/out/{r.id}", summary="s", preview="p", payload={},
             status=status, idempotency_key=f"k{r.id}", created_at=now)
        for r, status in zip(runs, ("approved", "planned"), strict=True)
    ]  # fmt: skip
    with write_transaction(db):
        cursor = db.cursor()
        insert.insert_many(db, cursor, rows)
        cursor.close()
        sql.set_run_figures(db, [(10, 1, 2, 0.5, 7, runs[0].id), (0, 1, 0, 0.0, None, runs[1].id)])
    approved = sql.approved_writes_of(db, [r.id for r in runs])
    assert approved == [(Write.get(Write.run == runs[0].id).id, runs[0].id)]
    first = Run.get_by_id(runs[0].id)
    assert (first.bytes_read, first.actions, first.affected_records, first.cost) == (10, 1, 2, 0.5)
    assert first.duration_ms == 7 and first.status == "running"
    assert Run.get_by_id(runs[1].id).duration_ms is None


def test_write_results_and_open_writes_of_runs(db, console) -> None:
    from sophmate_desktop.store.models import Write

    console.import_workflow(workflow_yaml())
    wf = Workflow.get(Workflow.name == "wf-one")
    runs = [make_run(db, "wf-one", status="applying") for _ in range(3)]
    statuses = [("approved", "applied"), ("pending", "failed"), ("applied", "cancelled")]
    insert = sql.RawInsert(Write)
    now = utcnow()
    rows = [
        dict(run=r.id, workflow=wf.id, category="finance", seq=seq, kind="write_file",
             effect="file", target=f"/out/{r.id}-{seq}", summary="s", preview="p",
             payload={}, status=status, idempotency_key=f"k{r.id}-{seq}", created_at=now,
             cost=0.5)
        for r, pair in zip(runs, statuses, strict=True) for seq, status in enumerate(pair)
    ]  # fmt: skip
    with write_transaction(db):
        cursor = db.cursor()
        insert.insert_many(db, cursor, rows)
        cursor.close()
    moving, waiting = ("approved", "applying"), ("interrupted", "pending")
    flags = sql.open_writes(db, [r.id for r in runs] + [999999], moving, waiting)
    assert flags == {
        runs[0].id: (True, False), runs[1].id: (False, True), runs[2].id: (False, False)
    }
    w1, w2 = Write.select().where(Write.run == runs[2].id).order_by(Write.seq)
    with write_transaction(db):
        undo = {"path": "/out/x", "previous": "é"}
        sql.set_write_results(db, [(Write.undo.db_value(undo), 1.25, w1.id), (None, 0.0, w2.id)])
    assert Write.get_by_id(w1.id).undo == undo and Write.get_by_id(w1.id).cost == 1.75
    assert Write.get_by_id(w2.id).undo is None and Write.get_by_id(w2.id).cost == 0.5
    assert Write.get_by_id(w1.id).status == "applied"  # never the status
