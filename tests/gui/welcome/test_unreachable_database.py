"""A team database that does not answer at start is not a dead end: Retry, "Use the
local database" and "Edit connection" each lead to a window; Quit gives exit 10."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel

from sophmate_desktop.gui_app import open_window
from sophmate_desktop.store.database import local_db_path
from sophmate_desktop.ui.main_window import MainWindow
from sophmate_desktop.ui.widgets.unreachable_db import UnreachableDatabaseDialog
from tests.support.gui import isolate_user_dirs

DOWN = "postgresql://nobody:hunter22@127.0.0.1:1/team"


def answer(steps: list[Callable[[UnreachableDatabaseDialog], None]], seen: list[str]) -> None:
    """When a dialog is up, do the next step to it (as a person clicking)."""

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, UnreachableDatabaseDialog) and dialog.isVisible():
            seen.append(dialog.findChild(QLabel, "unreachableText").text())
            steps.pop(0)(dialog)
        if steps:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(20, poll)


def test_retry_then_quit_gives_the_unreachable_exit_code(qtbot, tmp_path, monkeypatch):
    isolate_user_dirs(monkeypatch, tmp_path)
    seen: list[str] = []
    answer([lambda d: d.retry_button.click(), lambda d: d.quit_button.click()], seen)
    assert open_window(QApplication.instance(), DOWN, "ana", start_engine=False, ask=True) == 10
    assert len(seen) == 2  # asked again after the retry failed


def test_use_the_local_database(qtbot, tmp_path, monkeypatch):
    isolate_user_dirs(monkeypatch, tmp_path)
    seen: list[str] = []
    answer([lambda d: d.local_button.click()], seen)
    window = open_window(QApplication.instance(), DOWN, "ana", start_engine=False, ask=True)
    assert isinstance(window, MainWindow)
    qtbot.addWidget(window)
    try:
        assert "cannot connect to postgresql://nobody:" in seen[0] and "hunter22" not in seen[0]
        assert str(local_db_path()).startswith(str(tmp_path))
        assert window.services.console.database_info().folder == local_db_path().parent
    finally:
        window.shutdown()


def test_edit_connection_opens_the_corrected_database(qtbot, tmp_path, monkeypatch):
    isolate_user_dirs(monkeypatch, tmp_path)
    fixed = f"sqlite:///{tmp_path / 'team-copy.sqlite3'}"

    def edit(dialog: UnreachableDatabaseDialog) -> None:
        dialog.edit_button.click()  # shows the field
        assert dialog.url_edit.isVisible()
        qtbot.keyClicks(dialog.url_edit, fixed)
        dialog.edit_button.click()  # "Connect"

    answer([edit], [])
    window = open_window(QApplication.instance(), DOWN, "ana", start_engine=False, ask=True)
    assert isinstance(window, MainWindow)
    qtbot.addWidget(window)
    try:
        assert (tmp_path / "team-copy.sqlite3").exists()
    finally:
        window.shutdown()
