"""The window on a big file: it shows at once while the quick check runs in the
background, the status bar says changes wait, the engine starts once the check has
passed; a file that fails it is named with its backup and the engine never starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from sophmate_desktop.store.models import Switch
from tests.support.db_faults import corrupt_middle, grown_file


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return grown_file(tmp_path / "sm.sqlite3")


@pytest.fixture
def open_big(make_window):
    """The window with every file treated as big (checked in the background)."""
    return lambda path: make_window(
        url=f"sqlite:///{path}", start_engine=True, check_in_background_above=0
    )


def test_the_engine_starts_once_the_background_check_passed(qtbot, open_big, path) -> None:
    window = open_big(path)
    check = window.database_check
    assert check is not None
    assert not window.services.engine.started
    assert window.statusBar().currentMessage().startswith("Checking the database")
    with qtbot.waitSignal(check.check_passed, timeout=10_000):
        pass
    assert window.services.engine.started
    assert window.statusBar().currentMessage().startswith("Database checked in ")
    window.shutdown()
    assert not check.pending._thread.is_alive()


def test_a_file_that_fails_the_check_is_named_and_nothing_starts(qtbot, open_big, path) -> None:
    corrupt_middle(path)
    window = open_big(path)
    check = window.database_check
    with qtbot.waitSignal(check.check_failed, timeout=10_000) as failed:
        pass
    [text] = failed.args
    box = check.failure_box
    assert box is not None and box.isVisible()
    assert str(path) in box.text() and "corrupt" in box.text()
    assert "db restore" in box.text()  # the command that restores it
    assert not window.services.engine.started
    assert "failed its check" in window.statusBar().currentMessage()
    qtbot.mouseClick(box.button(box.StandardButton.Ok), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not box.isVisible())
    assert text in box.text()


def test_a_pause_from_the_window_waits_for_the_check_then_holds(qtbot, open_big, path) -> None:
    window = open_big(path)
    window.services.console.pause_all("incident")  # on the main thread, as the panel does
    assert window.database_check.pending.done
    assert Switch.get(Switch.name == "all").paused
    with qtbot.waitSignal(window.database_check.check_passed, timeout=10_000):
        pass
