"""The window's life: closing it to the tray keeps the engine watching, Quit (Ctrl+Q,
File > Quit, the tray's Quit) stops everything, a second launch raises the first
window, and a database that cannot be opened stops the launch with a clear message.

(tests/gui/welcome/test_startup.py covers SingleInstance itself: socket names, stale
sockets, a second process that finds a listener.)
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMenu

from sophmate_desktop.console import Console
from sophmate_desktop.gui_app import serve_later_launches
from sophmate_desktop.ui import navigator as nav
from sophmate_desktop.ui.single_instance import SingleInstance
from tests.support.engine import to_staging
from tests.support.journeys.j3 import (
    WAIT_MS,
    activate,
    app_process,
    drop_file,
    files_under,
    intake_workflow,
)


def started_threads(before: set[int | None]) -> list[str]:
    return [
        t.name
        for t in threading.enumerate()
        if t.ident not in before and t.is_alive() and not isinstance(t, threading._DummyThread)
    ]


@pytest.fixture
def watching(make_window, tmp_path: Path):
    """Ana's window with its engine, watching `incoming` for the lead's workflow."""

    def make():
        incoming, out = tmp_path / "incoming", tmp_path / "staging"
        incoming.mkdir()
        out.mkdir()
        window = make_window("ana", start_engine=True)
        lead = Console(window.services.console.db, actor="lead")
        lead.import_workflow(intake_workflow(incoming, tmp_path / "accounting", out))
        sample = tmp_path / "sample.csv"
        sample.write_text("number,email\n1,a@example.test\n")
        to_staging(lead, window.services.engine, "team-intake", sample)
        return window, incoming

    return make


def test_closing_to_the_tray_keeps_watching_and_ctrl_q_stops_everything(qtbot, watching):
    before = {t.ident for t in threading.enumerate()}
    window, incoming = watching()
    window.tray.available = True  # a desktop with a system tray
    activate(qtbot, window)
    engine = window.services.engine

    window.close()  # the title bar's close button
    assert not window.isVisible()
    assert engine.started and window.change_watcher.running
    drop_file(incoming, "march.csv", "number,email\n7,m@example.test\n")
    qtbot.waitUntil(lambda: window.tray.inbox_action.text() == "&Inbox (1)", timeout=WAIT_MS)
    assert "1 write awaits approval" in window.tray.tooltip

    window.tray.inbox_action.trigger()  # the tray menu's "Inbox (1)"
    assert window.isVisible() and window.current_page_key() == nav.INBOX
    activate(qtbot, window)
    with qtbot.waitSignal(window.quit_requested, timeout=WAIT_MS):
        qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible() and not engine.started
    assert not window.change_watcher.running
    qtbot.waitUntil(lambda: not started_threads(before), timeout=1000)


def test_file_quit_from_the_keyboard_menu(qtbot, make_window):
    before = {t.ident for t in threading.enumerate()}
    window = make_window("ana", start_engine=True)
    window.tray.available = True
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu))
    menu = QApplication.activePopupWidget()
    assert [a.text() for a in menu.actions()] == ["&Quit"]
    with qtbot.waitSignal(window.quit_requested, timeout=WAIT_MS):
        qtbot.keyClick(menu, Qt.Key.Key_Q)
    assert not window.isVisible() and not window.services.engine.started
    qtbot.waitUntil(lambda: not started_threads(before), timeout=1000)


def test_quit_from_the_tray_menu_while_the_window_is_hidden(qtbot, make_window):
    window = make_window("ana", start_engine=True)
    window.tray.available = True
    activate(qtbot, window)
    window.close()
    assert not window.isVisible() and window.services.engine.started
    [quit_action] = [a for a in window.tray.menu.actions() if a.text() == "&Quit"]
    with qtbot.waitSignal(window.quit_requested, timeout=WAIT_MS):
        quit_action.trigger()
    assert not window.services.engine.started


def test_without_a_tray_closing_the_window_quits(qtbot, make_window):
    window = make_window("ana", start_engine=True)
    assert not window.tray.available  # offscreen: no system tray
    activate(qtbot, window)
    with qtbot.waitSignal(window.quit_requested, timeout=WAIT_MS):
        window.close()
    assert not window.isVisible() and not window.services.engine.started


def test_a_second_launch_raises_the_first_window(qtbot, make_window, sqlite_url, tmp_path):
    window = make_window("ana")
    window.tray.available = True
    activate(qtbot, window)
    window.close()  # to the tray
    assert not window.isVisible()
    instance = SingleInstance(sqlite_url)
    serve_later_launches(window, instance)
    second = app_process("--db", sqlite_url, home=tmp_path / "second")
    try:
        with qtbot.waitSignal(instance.raise_requested, timeout=30_000):
            pass
        qtbot.waitUntil(lambda: second.poll() is not None, timeout=30_000)
    finally:
        instance.close()
        if second.poll() is None:
            second.kill()
    out, err = second.communicate()
    assert second.returncode == 0, err
    assert "already running" in out
    assert window.isVisible()


@pytest.mark.parametrize(
    ("url", "message", "code"),
    [
        # an unreachable server is 10 (try again later), a file that is no database is 2
        (
            "postgresql://nobody:hunter22@127.0.0.1:1/x",
            "cannot connect to postgresql://nobody:",
            10,
        ),
        ("sqlite:///{tmp}/notes.txt", "notes.txt is not a SQLite database", 2),
    ],
)
def test_a_database_that_cannot_be_opened_stops_the_launch(qtbot, tmp_path, url, message, code):
    home = tmp_path / "home"
    home.mkdir()
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\n")
    before = files_under(tmp_path)
    launch = app_process("--db", url.format(tmp=tmp_path), home=home, cwd=tmp_path)
    try:
        out, err = launch.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        launch.kill()
        launch.communicate()
        pytest.fail("the launch is still waiting (for a click on a message box nobody sees?)")
    assert launch.returncode == code, err
    assert err.startswith("error: ") and message in err
    assert "hunter22" not in err + out
    assert files_under(tmp_path) == before  # nothing created, nothing left behind


def test_two_windows_on_one_database_in_one_process_share_it(qtbot, make_window):
    """The models are bound to one database per process: a second window must not
    rebind them under the first (whose transactions would then cover nothing)."""
    ana, bo = make_window("ana"), make_window("bo")
    assert ana.services.console.db is bo.services.console.db
    ana.services.console.pause_all("maintenance window")
    bo.services.console.resume_all("maintenance done")
    ana.shutdown()
    assert [e.actor for e in bo.services.console.list_audit(action="global.*")] == ["bo", "ana"]
    assert bo.services.console.verify_audit().ok
    bo.shutdown()
    later = make_window("cy")  # every window on it closed: the next one opens it afresh
    assert later.services.console.db is not ana.services.console.db
