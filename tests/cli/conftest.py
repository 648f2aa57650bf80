"""Fixtures that run the command line in-process (tests/support/cli.py has `Cli`, the
example workflow files and `add_run`)."""

from __future__ import annotations

import pytest

from tests.support.cli import Cli


def _initialised(url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    cli = Cli(url, capsys)
    done = cli("init")  # the CLI creates a database only when told to
    assert done.code == 0, done.err
    return cli


@pytest.fixture
def cli(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return _initialised(sqlite_url, capsys)


@pytest.fixture
def any_cli(db_url: str, capsys: pytest.CaptureFixture[str], request) -> Cli:
    """The same, on SQLite and on the real PostgreSQL (a login per actor there, as a
    team has: tests/support/team.py; `any_cli.who(actor)` is the name recorded)."""
    if db_url.startswith("postgresql"):
        from tests.support.team import TeamCli

        return TeamCli(request.getfixturevalue("pg_team"), capsys)
    return _initialised(db_url, capsys)


@pytest.fixture
def owner(pg_team, capsys) -> Cli:
    """The schema owner (it may create roles), after `init` and `team init`."""
    cli = Cli(pg_team.admin_url, capsys)
    assert cli("init").code == 0
    done = cli("team", "init")
    assert done.code == 0, done.err
    return cli
