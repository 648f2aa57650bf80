"""Opening databases: URLs, pragmas, migrations with a backup, newer schemas refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from playhouse.migrations import Runner

from sophmate_desktop.domain.errors import DatabaseError
from sophmate_desktop.store import database as store_db
from sophmate_desktop.store.database import MIGRATIONS_DIR, SCHEMA_TABLE, open_database, parse_url
from sophmate_desktop.store.models import AuditHead, Category, Switch


def test_sqlite_opens_in_wal_with_foreign_keys_and_busy_timeout(sqlite_url: str) -> None:
    db = open_database(sqlite_url)
    try:
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute_sql("PRAGMA synchronous").fetchone()[0] == 1
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 5000
    finally:
        db.close()


def test_open_seeds_switches_and_chain_head(db) -> None:
    assert AuditHead.get_by_id(1).last_id == 0
    names = {(s.scope, s.name) for s in Switch.select()}
    assert ("global", "all") in names
    assert {"email", "http", "command", "file", "customer_facing"} <= {n for _, n in names}


def test_reopening_is_idempotent(db_url: str) -> None:
    open_database(db_url).close()
    db = open_database(db_url)
    try:
        assert Switch.select().where(Switch.scope == "global").count() == 1
    finally:
        db.close()


def test_default_url_follows_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOPHMATE_DB", f"sqlite:///{tmp_path}/x.sqlite3")
    assert store_db.default_db_url() == f"sqlite:///{tmp_path}/x.sqlite3"
    monkeypatch.delenv("SOPHMATE_DB")
    default = store_db.default_db_url()
    assert default.startswith("sqlite:///") and "sophmate-desktop" in default


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://u:p@h/db", "unsupported database URL scheme 'mysql'"),
        ("sqlite:///", "bad SQLite URL"),
        ("postgresql://u:p@127.0.0.1:5432/", "names no database"),
        ("postgresql://u:p@127.0.0.1:notaport/db", "bad port"),
        ("", "empty database URL"),
    ],
)
def test_bad_urls_name_the_problem(url: str, fragment: str) -> None:
    with pytest.raises(DatabaseError, match=fragment):
        open_database(url)


def test_folder_and_foreign_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="is a folder"):
        open_database(f"sqlite:///{tmp_path}")
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database at all, just some text in a file")
    with pytest.raises(DatabaseError, match="is not a SQLite database"):
        open_database(f"sqlite:///{junk}")
    assert junk.read_text().startswith("not a database")


def test_unreachable_postgres_is_a_clear_error_with_password_masked() -> None:
    with pytest.raises(DatabaseError) as info:
        open_database("postgresql://someone:hunter2secret@127.0.0.1:1/nowhere")
    assert "cannot connect to postgresql://someone:***@127.0.0.1:1/nowhere" in str(info.value)
    assert "hunter2secret" not in str(info.value)


def test_url_forms() -> None:
    assert parse_url("sqlite:////abs/db.sqlite3").path == Path("/abs/db.sqlite3")
    assert parse_url("sqlite:///rel/db.sqlite3").path == Path("rel/db.sqlite3")
    assert parse_url("/plain/path.db").path == Path("/plain/path.db")
    pg = parse_url("postgresql://me:pw@db.example:6543/team")
    assert (pg.host, pg.port, pg.user, pg.password, pg.dbname) == (
        "db.example",
        6543,
        "me",
        "pw",
        "team",
    )
    assert pg.display == "postgresql://me:***@db.example:6543/team"


def _make_old_database(path: Path) -> None:
    """A database stopped at the first migration, with rows in it."""
    from peewee import SqliteDatabase

    old = SqliteDatabase(str(path), pragmas={"journal_mode": "wal", "foreign_keys": 1})
    runner = Runner(old, directory=str(MIGRATIONS_DIR), table_name=SCHEMA_TABLE)
    runner.up("0001_initial")
    old.execute_sql(
        "INSERT INTO category (name, description, paused, created_at) "
        "VALUES ('finance', '', 0, '2026-01-01 00:00:00')"
    )
    old.execute_sql(
        "INSERT INTO category (name, description, paused, created_at) "
        "VALUES ('reporting', '', 0, '2026-01-01 00:00:00')"
    )
    old.execute_sql(
        "INSERT INTO workflow (name, category_id, description, definition, revision, stage, "
        "enabled, paused, consecutive_failures, first_run_reviewed, plugin_versions, "
        "created_by, created_at, updated_by, updated_at) VALUES ('wf', 1, '', '{}', 1, "
        "'dry_run', 0, 0, 0, 0, '{}', 'x', '2026-01-01', 'x', '2026-01-01')"
    )
    old.close()


def test_migration_from_older_schema_keeps_rows_and_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _make_old_database(path)
    db = open_database(f"sqlite:///{path}")
    try:
        assert Category.select().count() == 2
        assert db.execute_sql("SELECT COUNT(*) FROM workflow").fetchone()[0] == 1
        assert "ledger_entry" in db.get_tables()
        applied = [r[0] for r in db.execute_sql(f"SELECT name FROM {SCHEMA_TABLE} ORDER BY id")]
        assert applied == sorted(p.stem for p in MIGRATIONS_DIR.glob("0*.py"))
    finally:
        db.close()
    backups = list(tmp_path.glob("old.sqlite3.before-migration-0001-*"))
    assert len(backups) == 1
    with sqlite3.connect(backups[0]) as conn:
        assert conn.execute("SELECT COUNT(*) FROM category").fetchone()[0] == 2
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "ledger_entry" not in tables


def test_migrating_writes_gives_each_its_first_attempt(tmp_path: Path) -> None:
    from peewee import SqliteDatabase

    path = tmp_path / "old.sqlite3"
    _make_old_database(path)
    old = SqliteDatabase(str(path), pragmas={"foreign_keys": 1})
    Runner(old, directory=str(MIGRATIONS_DIR), table_name=SCHEMA_TABLE).up("0004_double_precision")
    old.execute_sql(
        "INSERT INTO run (workflow_id, revision, trigger_kind, mode, status, attempt, queued_at, "
        "bytes_read, bytes_written, actions, affected_records, cost, created_by) VALUES "
        "(1, 1, 'manual', 'staging', 'applying', 1, '2026-01-01', 0, 0, 0, 0, 0, 'x')"
    )
    for seq, status in ((1, "approved"), (2, "failed")):
        old.execute_sql(
            "INSERT INTO write (run_id, workflow_id, category, seq, kind, effect, target, "
            "summary, preview, payload, customer_facing, status, idempotency_key, created_at, "
            f"cost) VALUES (1, 1, 'finance', {seq}, 'write_file', 'file', '/tmp/x', '', '', "
            f"'{{}}', 0, '{status}', 'k{seq}', '2026-01-01', 0)"
        )
    old.close()
    db = open_database(f"sqlite:///{path}")
    try:
        rows = db.execute_sql(
            "SELECT seq, status, attempt, next_attempt_at FROM write ORDER BY seq"
        ).fetchall()
        assert rows == [(1, "approved", 1, None), (2, "failed", 1, None)]
        assert db.execute_sql("SELECT COUNT(*) FROM run").fetchone()[0] == 1
    finally:
        db.close()


def test_fresh_database_gets_no_backup(tmp_path: Path) -> None:
    open_database(f"sqlite:///{tmp_path}/fresh.sqlite3").close()
    assert not list(tmp_path.glob("*before-migration*"))


def test_newer_schema_is_refused(db_url: str) -> None:
    db = open_database(db_url)
    db.execute_sql(
        f"INSERT INTO {SCHEMA_TABLE} (name, applied) VALUES ('0099_from_the_future', "
        "'2030-01-01 00:00:00')"
    )
    db.close()
    with pytest.raises(DatabaseError, match="0099_from_the_future, newer than SophMate Desktop"):
        open_database(db_url)
