"""The test PostgreSQL server (SOPHMATE_TEST_PG_URL): is it there, and a clean schema.
The fixtures over it (`pg_url`, `db_url`) live in tests/conftest.py.

Under pytest-xdist each worker gets its own database beside the configured one
(`sophmate_test_gw0`, ...), because every PostgreSQL test resets the schema."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

BASE_PG_URL = os.environ.get(
    "SOPHMATE_TEST_PG_URL", "postgresql://sophmate:sophmate@127.0.0.1:5432/sophmate_test"
)


def _worker_url(url: str, worker: str | None) -> str:
    if not worker:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path}_{worker}"))


PG_URL = _worker_url(BASE_PG_URL, os.environ.get("PYTEST_XDIST_WORKER"))


_created: list[str] = []


def _create_worker_database() -> None:
    if _created:
        return
    import psycopg
    from psycopg import sql

    name = urlsplit(PG_URL).path.lstrip("/")
    with psycopg.connect(BASE_PG_URL, autocommit=True, connect_timeout=3) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    _created.append(name)


def pg_available() -> str | None:
    """None when the test server answers, else why not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        if PG_URL != BASE_PG_URL:
            _create_worker_database()
        with psycopg.connect(PG_URL, connect_timeout=3):
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
