from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from sophmate_desktop.ui import navigator as nav


def test_window_opens_on_the_dashboard_with_the_kill_switch_panel_on_top(make_window, qtbot):
    make_window("seed")  # the database exists now: no first run
    window = make_window("ana")
    window.show()
    assert window.findChild(type(window.kill_switch_panel), "killSwitchPanel") is not None
    assert window.current_page_key() == nav.DASHBOARD
    assert "ana" in window.windowTitle()


def test_first_start_on_a_new_database_opens_the_welcome_page(make_window):
    window = make_window()
    assert window.current_page_key() == nav.WELCOME


def test_ctrl_number_keys_switch_pages(make_window, qtbot):
    window = make_window()
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key() == nav.INBOX
    qtbot.keyClick(window, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key() == nav.AUDIT


def test_a_change_by_another_process_reaches_the_pages(make_window, qtbot, sqlite_url):
    from sophmate_desktop.console import Console
    from sophmate_desktop.store.database import open_database

    window = make_window()
    other = Console(open_database(sqlite_url), actor="bo")
    other.pause_all("maintenance window")
    with qtbot.waitSignal(window.services.events.event_received, timeout=3000) as blocker:
        pass
    assert blocker.args[0].kind in {"db.changed", "category.paused", "global.paused"}


def test_the_engine_starts_with_the_window_and_stops_on_shutdown(make_window):
    window = make_window(start_engine=True)
    engine = window.services.engine
    assert engine is not None and engine.started
    window.shutdown()
    assert not engine.started
