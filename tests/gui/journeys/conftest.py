"""Journey tests walk a person's day through the real main window (tests/gui/conftest.py
gives `make_window`). Each journey keeps its helpers in its own jN_helpers.py module;
this file stays minimal: the user's folders live in the test's temporary folder, so
nothing a journey writes (config, data, "~/..." paths of the example workflows) lands
in the real home directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    return home
