"""Navigation: Back returns where the run was opened from; a page's shortcut
(Ctrl+4 for Runs) returns to its list from a run's page."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from sophmate_desktop.ui import navigator as nav
from tests.support.pages import click_row
from tests.support.seed import seed_every_page


def _window(make_window, gui_db, qtbot):
    seeded = seed_every_page(gui_db, bulk=5)
    window = make_window("ana")
    window.resize(1024, 700)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window, seeded


def test_back_returns_to_the_inbox_the_run_was_opened_from(make_window, gui_db, qtbot):
    window, seeded = _window(make_window, gui_db, qtbot)
    window.show_page(nav.INBOX)
    inbox = window.page(nav.INBOX)
    qtbot.waitUntil(lambda: inbox.model.row_of(1) is not None, timeout=10_000)
    click_row(qtbot, inbox, 1)
    open_run = inbox.preview.open_run
    qtbot.waitUntil(open_run.isEnabled, timeout=10_000)
    qtbot.mouseClick(open_run, Qt.MouseButton.LeftButton)
    runs = window.page(nav.RUNS)
    assert window.current_page_key() == nav.RUNS
    assert runs.stack.currentWidget() is runs.panel
    assert runs.panel.run_id == seeded.waiting_run
    assert runs.panel.back_button.text().startswith("← &Back to Inbox")
    qtbot.mouseClick(runs.panel.back_button, Qt.MouseButton.LeftButton)
    assert window.current_page_key() == nav.INBOX
    # the next visit to Runs shows the history, and its Back is "to runs" again
    window.show_page(nav.RUNS)
    assert runs.stack.currentWidget() is not runs.panel
    assert runs.panel.back_button.text() == "← &Back to runs"


def test_esc_from_a_run_opened_on_the_dashboard_returns_to_the_dashboard(
    make_window, gui_db, qtbot
):
    window, seeded = _window(make_window, gui_db, qtbot)
    assert window.current_page_key() == nav.DASHBOARD
    window.services.navigator.show_run(seeded.failed_run)
    runs = window.page(nav.RUNS)
    assert runs.panel.run_id == seeded.failed_run
    runs.panel.account_view.setFocus()
    qtbot.keyClick(runs.panel.account_view, Qt.Key.Key_Escape)
    assert window.current_page_key() == nav.DASHBOARD


def test_the_page_shortcut_returns_to_the_list_from_a_runs_page(make_window, gui_db, qtbot):
    window, seeded = _window(make_window, gui_db, qtbot)
    window.show_page(nav.RUNS)
    runs = window.page(nav.RUNS)
    runs.show_run(seeded.failed_run)
    assert runs.stack.currentWidget() is runs.panel
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key() == nav.RUNS
    assert runs.stack.currentWidget() is not runs.panel
    assert runs.selected_run_id() == seeded.failed_run  # the list, on the run it showed
