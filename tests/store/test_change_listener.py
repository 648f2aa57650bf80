"""LISTEN/NOTIFY on a real PostgreSQL: the database announces each commit that
changes switches, workflows, runs, writes or settings (migration 0026), and the
listener hears it (and rings once more after each reconnect)."""

from __future__ import annotations

import queue

import psycopg
import pytest

from sophmate_desktop.store.change_listener import ChangeListener

pytestmark = pytest.mark.postgres

WAIT = 10.0  # far below the engine's 60 s tick: only a notification can be this fast


@pytest.fixture
def listener(pg_db):
    seen: queue.Queue[str | None] = queue.Queue()
    made = ChangeListener.for_db(pg_db, seen.put)
    assert made is not None
    made.start()
    assert seen.get(timeout=WAIT) is None  # rung once on connect: look at what was missed
    yield made, seen
    made.close()


def test_a_committed_pause_is_announced_and_a_rolled_back_one_is_not(pg_url, listener):
    _, seen = listener
    with psycopg.connect(pg_url) as conn:  # psql's view: no SophMate code on this side
        with conn.transaction():
            conn.execute(
                "INSERT INTO category (name, description, paused, created_at) "
                "VALUES ('late', '', false, now())"
            )
            conn.execute("UPDATE category SET paused = true WHERE name = 'late'")
            conn.execute("UPDATE category SET paused = false WHERE name = 'late'")
        with pytest.raises(psycopg.errors.DivisionByZero), conn.transaction():
            conn.execute("UPDATE switch SET paused = true")
            conn.execute("SELECT 1/0")
        with conn.transaction():
            conn.execute("UPDATE workflow SET paused = paused")
    got = [seen.get(timeout=WAIT), seen.get(timeout=WAIT)]
    assert got == ["category", "workflow"]  # one per table and commit; none for the rollback
    assert seen.empty()


def test_the_listener_reconnects_and_rings_after_its_connection_is_cut(pg_url, listener):
    made, seen = listener
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN sophmate_changes%' AND pid <> pg_backend_pid()"
        )
    assert seen.get(timeout=WAIT) is None  # reconnected: what changed meanwhile is looked at
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE setting SET key = key")
    assert seen.get(timeout=WAIT) == "setting"
    assert made.connected.is_set()
