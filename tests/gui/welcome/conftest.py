"""The user's config and data folders moved into the test's temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.gui import isolate_user_dirs


@pytest.fixture(autouse=True)
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate_user_dirs(monkeypatch, tmp_path)


@pytest.fixture
def reachable_pg_url() -> str:
    """The test PostgreSQL server, only read here: unlike `pg_url`, its schema is not
    reset (that would cut off other tests using it at the same time)."""
    import os

    from tests.support.postgres import PG_URL, pg_available

    reason = pg_available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs PostgreSQL: {reason}")
        pytest.skip(reason)
    return PG_URL
