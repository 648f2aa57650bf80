"""Journey tests walk a person's day through the real main window (tests/gui/conftest.py
gives `make_window`). Each journey keeps its helpers in tests/support/journeys/jN.py;
this file stays minimal: the user's folders live in the test's temporary folder, so
nothing a journey writes (config, data, "~/..." paths of the example workflows) lands
in the real home directory, and `mailbox` is a real SMTP server for journeys 2 and 3."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.mail import SmtpServer


@pytest.fixture(autouse=True)
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    return home


@pytest.fixture
def mailbox() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 for the accounts' mail."""
    box = SmtpServer("accounts@example.test", timeout_s=5).start()
    yield box
    box.stop()
