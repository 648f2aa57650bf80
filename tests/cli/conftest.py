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
def any_cli(db_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    """The same, on SQLite and on the real PostgreSQL."""
    return _initialised(db_url, capsys)
