"""The Settings page on the `services` of tests/gui/conftest.py, with the user's
config and data folders moved into the test's temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from sophmate_desktop.ui.pages.settings import SettingsPage
from tests.support.gui import isolate_user_dirs, on_screen


@pytest.fixture(autouse=True)
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate_user_dirs(monkeypatch, tmp_path)


@pytest.fixture
def page(qtbot, services) -> SettingsPage:
    page = on_screen(qtbot, SettingsPage(services), 1100, 900)
    page.refresh()
    qtbot.waitUntil(lambda: page.secrets.status.level in ("ok", "error"), timeout=5000)
    return page


@pytest.fixture
def db_bytes(sqlite_url: str):
    """Reads the database file and its WAL as they are on disk."""
    path = Path(sqlite_url.removeprefix("sqlite:///"))

    def read() -> bytes:
        return b"".join(
            Path(f"{path}{suffix}").read_bytes()
            for suffix in ("", "-wal")
            if Path(f"{path}{suffix}").exists()
        )

    return read
