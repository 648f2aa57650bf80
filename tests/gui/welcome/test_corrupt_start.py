"""The window started on a corrupt database: a question names the file, the newest
verified backup and the restore command, and offers Restore (what changed since the
backup is not in it) or Quit. Restore puts the backup in place, audits it and opens
the window; Quit (the default) changes nothing."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from sophmate_desktop.console import Console
from sophmate_desktop.domain.errors import ExitCode
from sophmate_desktop.gui_app import RESTORED_AT_START, open_window
from sophmate_desktop.store import backups
from sophmate_desktop.store.database import open_database
from sophmate_desktop.ui.main_window import MainWindow
from sophmate_desktop.ui.widgets.corrupt_database import CorruptDatabaseDialog
from tests.support.db_faults import corrupt_middle, grow
from tests.support.factories import workflow_yaml


class _Seen(list):
    timer: QTimer


def _answer(act: Callable[[CorruptDatabaseDialog], None]) -> _Seen:
    """Act on the question once it is open (it runs its own event loop)."""
    seen = _Seen()
    timer = seen.timer = QTimer()
    timer.setInterval(10)

    def poll() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, CorruptDatabaseDialog) and box.isVisible() and not seen:
            seen.append(box)
            timer.stop()
            act(box)

    timer.timeout.connect(poll)
    timer.start()
    return seen


def _make(tmp_path: Path, backup: bool) -> Path:
    """wf-fin before the backup (if any), wf-rep after it, then a page overwritten."""
    path = tmp_path / "sm.sqlite3"
    db = open_database(f"sqlite:///{path}")
    lead = Console(db, actor="lead")
    lead.import_workflow(workflow_yaml("wf-fin", "finance"))
    grow(db)
    db.close()
    if backup:
        backups.take_backup(path)
    db = open_database(f"sqlite:///{path}")
    Console(db, actor="lead").import_workflow(workflow_yaml("wf-rep", "reporting"))
    db.close()
    corrupt_middle(path)
    return path


def _rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_restore_puts_the_newest_backup_in_place_audits_it_and_opens_the_window(
    qtbot, qapp, tmp_path: Path
) -> None:
    path = _make(tmp_path, backup=True)
    newest = backups.newest_verified(path)
    assert newest is not None
    seen = _answer(lambda box: qtbot.mouseClick(box.restore_button, Qt.MouseButton.LeftButton))
    window = open_window(qapp, f"sqlite:///{path}", "ana", start_engine=False, ask=True)
    assert isinstance(window, MainWindow)
    qtbot.addWidget(window)
    try:
        [box] = seen
        assert box.objectName() == "corruptDatabase"
        assert str(path) in box.text() and "corrupt" in box.text()
        assert str(newest.path) in box.informativeText()
        assert "not in it" in box.informativeText()  # says what a restore loses
        assert box.command_edit.text() == f"sophmate-desktop --db sqlite:///{path} db restore"
        assert "malformed" in box.detailedText() or "Page" in box.detailedText()
        assert box.defaultButton() is box.quit_button  # never restored by Enter
        names = [n for (n,) in _rows(path, "SELECT name FROM workflow ORDER BY name")]
        assert names == ["wf-fin"]  # the backup's state: wf-rep came after it
        [(actor, reason)] = _rows(
            path, "SELECT actor, reason FROM audit_event WHERE action = 'database.restored'"
        )
        assert (actor, reason) == ("ana", RESTORED_AT_START)
        assert list(tmp_path.glob("sm.sqlite3.corrupt-*"))  # the broken file is kept
        assert _rows(path, "PRAGMA integrity_check") == [("ok",)]
    finally:
        window.shutdown()


def test_quit_is_the_default_and_changes_nothing(qtbot, qapp, tmp_path: Path) -> None:
    path = _make(tmp_path, backup=True)
    before = _sha(path)
    seen = _answer(lambda box: qtbot.keyClick(box, Qt.Key.Key_Return))
    code = open_window(qapp, f"sqlite:///{path}", "ana", start_engine=False, ask=True)
    assert code == ExitCode.DB_CORRUPT
    assert len(seen) == 1
    assert _sha(path) == before
    assert not list(tmp_path.glob("sm.sqlite3.corrupt-*"))


def test_without_a_backup_it_says_so_and_offers_no_restore(qtbot, qapp, tmp_path: Path) -> None:
    path = _make(tmp_path, backup=False)
    seen = _answer(lambda box: qtbot.keyClick(box, Qt.Key.Key_Escape))
    code = open_window(qapp, f"sqlite:///{path}", "ana", start_engine=False, ask=True)
    assert code == ExitCode.DB_CORRUPT
    [box] = seen
    assert box.restore_button is None
    assert "no verified backup" in box.informativeText()
    assert box.command_edit.text().endswith("db restore BACKUP")


def test_without_a_screen_it_says_it_on_stderr_and_exits_14(
    qapp, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _make(tmp_path, backup=True)
    assert open_window(qapp, f"sqlite:///{path}", "ana", start_engine=False) == 14
    err = capsys.readouterr().err
    assert "is corrupt" in err and "db restore" in err and "newest backup" in err
