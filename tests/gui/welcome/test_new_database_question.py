"""The window's first run on a missing database asks before creating it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from sophmate_desktop.gui_app import confirm_new_database, may_create_database


class _Answer(list):
    """The questions seen; holds the timer that polls for them."""

    timer: QTimer


def _answer(qtbot, act: Callable[[QMessageBox], None]) -> _Answer:
    """Act on the question as soon as it is open (it runs its own event loop)."""
    seen = _Answer()
    timer = seen.timer = QTimer()
    timer.setInterval(10)

    def poll() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.isVisible() and not seen:
            seen.append(box)
            timer.stop()
            act(box)

    timer.timeout.connect(poll)
    timer.start()
    return seen


def _button(box: QMessageBox, text: str):
    return next(b for b in box.buttons() if b.text() == text)


def test_the_first_start_proposes_creating_the_default_database(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "data" / "sophmate.sqlite3"
    seen = _answer(
        qtbot,
        lambda box: qtbot.mouseClick(
            _button(box, "&Create the database"), Qt.MouseButton.LeftButton
        ),
    )
    assert confirm_new_database(path, default=True) is True
    [box] = seen
    assert box.objectName() == "newDatabaseQuestion"
    assert str(path) in box.text() and "first start" in box.text()
    assert box.defaultButton().text() == "&Create the database"
    assert not path.exists()  # asking creates nothing; the window then opens it


def test_a_missing_db_path_defaults_to_quit(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "typo" / "ops.sqlite3"
    seen = _answer(qtbot, lambda box: qtbot.keyClick(box, Qt.Key.Key_Return))
    assert confirm_new_database(path, default=False) is False
    [box] = seen
    assert str(path) in box.text() and "Check the path" in box.text()
    assert box.defaultButton().text() == "&Quit"
    assert not path.parent.exists()


def test_escape_quits(qtbot, tmp_path: Path) -> None:
    _answer(qtbot, lambda box: qtbot.keyClick(box, Qt.Key.Key_Escape))
    assert confirm_new_database(tmp_path / "x.sqlite3", default=True) is False


def test_without_a_screen_the_window_says_it_creates_the_database(
    qapp: QApplication, tmp_path: Path, capsys
) -> None:
    path = tmp_path / "new.sqlite3"
    assert qapp.platformName() == "offscreen"
    assert may_create_database(qapp, f"sqlite:///{path}") is True
    assert capsys.readouterr().err == f"note: no database at {path}; creating a new one\n"
    assert not path.exists()  # create_window makes it, and shows the welcome page
