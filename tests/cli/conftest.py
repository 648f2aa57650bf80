"""Fixtures that run the command line in-process (tests/support/cli.py has `Cli`, the
example workflow files and `add_run`)."""

from __future__ import annotations

import pytest

from tests.support.cli import Cli


@pytest.fixture
def cli(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(sqlite_url, capsys)


@pytest.fixture
def any_cli(db_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    """The same, on SQLite and on the real PostgreSQL."""
    return Cli(db_url, capsys)
