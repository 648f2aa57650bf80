"""The test PostgreSQL server (SOPHMATE_TEST_PG_URL): is it there, and a clean schema.
The fixtures over it (`pg_url`, `db_url`) live in tests/conftest.py."""

from __future__ import annotations

import os

PG_URL = os.environ.get(
    "SOPHMATE_TEST_PG_URL", "postgresql://sophmate:sophmate@127.0.0.1:5432/sophmate_test"
)


def pg_available() -> str | None:
    """None when the test server answers, else why not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(
            PG_URL.replace("postgresql://", "postgresql://", 1), connect_timeout=3
        ):
            return None
    except Exception as exc:
        return f"PostgreSQL at {PG_URL.split('@')[-1]} is not reachable: {exc}"


def reset_pg_schema() -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        # A connection a finished test left open must not block the drop.
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                     "AND usename = current_user")
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
