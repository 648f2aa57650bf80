"""The log goes to the platform's log folder (or SOPHMATE_LOG_DIR) and rotates."""

from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Iterator
from pathlib import Path

import pytest

from sophmate_desktop import logs


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_the_log_folder_is_the_platforms_unless_named(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SOPHMATE_LOG_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert logs.log_folder() == tmp_path / "state" / "sophmate-desktop" / "log"
    monkeypatch.setenv("SOPHMATE_LOG_DIR", str(tmp_path / "mine"))
    assert logs.log_folder() == tmp_path / "mine"


def test_the_log_rotates_and_is_set_up_once(tmp_path: Path, restore_root) -> None:
    path = logs.setup_logging(tmp_path / "log")
    assert logs.setup_logging(tmp_path / "log") == path
    ours = [h for h in logging.getLogger().handlers if getattr(h, "baseFilename", "") == str(path)]
    assert len(ours) == 1
    record = "x" * 1000
    for _ in range(logs.MAX_BYTES * 2 // 1000 + 10):
        logging.getLogger("sophmate_desktop.test").warning(record)
    ours[0].flush()
    assert path.stat().st_size <= logs.MAX_BYTES
    assert Path(f"{path}.1").exists() and Path(f"{path}.2").exists()
    assert "WARNING" in path.read_text(encoding="utf-8")
