"""Shared fixtures: a temporary database (SQLite file or the real PostgreSQL),
an in-memory keyring, a watched folder. Qt runs offscreen."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("SOPHMATE_DB", None)
os.environ.pop("SOPHMATE_ALLOW_INSECURE_KEYRING", None)

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from hypothesis import settings

from tests.support.inmemory_keyring import InMemoryKeyring
from tests.support.postgres import PG_URL, pg_available, reset_pg_schema

# Hypothesis tests assert behaviour, not speed: a loaded 2-core machine must not fail
# an example for taking longer than hypothesis's default 200 ms (speed is bench/'s job).
settings.register_profile("sophmate", deadline=None)
settings.load_profile("sophmate")


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[InMemoryKeyring]:
    previous = keyring.get_keyring()
    backend = InMemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sophmate.sqlite3'}"


@pytest.fixture
def pg_url() -> str:
    reason = pg_available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs PostgreSQL: {reason}")
        pytest.skip(reason)
    reset_pg_schema()
    return PG_URL


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sophmate.sqlite3'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def db(db_url: str):
    from sophmate_desktop.store.database import open_database

    database = open_database(db_url)
    yield database
    database.close()


@pytest.fixture
def sqlite_db(sqlite_url: str):
    from sophmate_desktop.store.database import open_database

    database = open_database(sqlite_url)
    yield database
    database.close()


@pytest.fixture
def pg_db(pg_url: str):
    """The test PostgreSQL database, opened (its schema reset by `pg_url`)."""
    from sophmate_desktop.store.database import open_database

    database = open_database(pg_url)
    yield database
    database.close()


@pytest.fixture
def make_console(db):
    """Consoles for several people on the same database."""
    from sophmate_desktop.console import Console

    def make(actor: str = "ana"):
        return Console(db, actor=actor)

    return make


@pytest.fixture
def console(make_console):
    return make_console("ana")


@pytest.fixture
def watched_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "watched"
    folder.mkdir()
    return folder


@pytest.fixture
def pg_team(pg_url: str):
    """Logins with roles on the test PostgreSQL database, dropped at teardown
    (tests/support/team.py)."""
    from tests.support.team import PgTeam

    team = PgTeam(pg_url)
    yield team
    team.drop()
