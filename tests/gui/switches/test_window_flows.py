"""Whole-window flows with a real engine: pause a category (banner, red switch, tray,
a dropped file becomes a held run), resume and replay it; Pause all from the keyboard;
a failed run reaches the tray and the notification centre and is acknowledged."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QGroupBox

from sophmate_desktop.store.models import AuditEvent
from sophmate_desktop.ui import navigator as nav
from tests.support.pages import open_dialog, submit


def shown(qtbot, window) -> None:
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def test_pause_a_category_hold_a_dropped_file_then_resume_and_replay_it(
    qtbot, make_window, watched_workflow, watched_folder
):
    window = make_window(start_engine=True)
    console = window.services.console
    watched_workflow(console, "intake")
    panel, banner, tray = window.kill_switch_panel, window.paused_banner, window.tray
    shown(qtbot, window)
    qtbot.waitUntil(lambda: ("category", "finance") in panel.buttons)

    submit(qtbot, open_dialog(qtbot, panel, "category", "finance"), "audit in progress")
    qtbot.waitUntil(lambda: panel.dialog is None)
    button = panel.switch_button("category", "finance")
    assert button.property("paused") is True and "#c62828" in button.styleSheet()
    qtbot.waitUntil(banner.isVisible)
    assert banner.text().startswith("Paused: finance (by ana ")
    assert banner.text().endswith(": audit in progress)")
    qtbot.waitUntil(lambda: tray.state == "paused")

    (watched_folder / "march.txt").write_text("wait for me")
    qtbot.waitUntil(lambda: len(console.list_held()) == 1, timeout=20_000)
    [held] = console.list_held()
    assert held.trigger_path == str(watched_folder / "march.txt")
    qtbot.waitUntil(lambda: button.text() == "finance — paused, 1 held run")

    dialog = open_dialog(qtbot, panel, "category", "finance")
    assert dialog.findChild(QGroupBox).title() == "1 held run waiting"
    assert dialog.held_buttons["replay"].text().replace("&", "") == "Replay it now"
    submit(qtbot, dialog, "audit done", held="replay")
    qtbot.waitUntil(lambda: panel.dialog is None, timeout=5000)
    qtbot.waitUntil(lambda: console.get_run(held.id).status == "succeeded", timeout=20_000)
    qtbot.waitUntil(lambda: not banner.isVisible())
    qtbot.waitUntil(lambda: tray.state == "ok")
    assert button.property("paused") is False
    replayed = AuditEvent.select().where(AuditEvent.action == "held.replayed").get()
    assert replayed.actor == "ana" and replayed.details["runs"] == [held.id]


def test_pause_all_from_the_keyboard_shortcut_with_the_reason_dialog(qtbot, make_window):
    make_window("seed")  # not a first start: the dashboard opens
    window = make_window()
    shown(qtbot, window)
    panel = window.kill_switch_panel
    assert panel.pause_all_action in window.tray.menu.actions()

    qtbot.keyClick(
        window,
        Qt.Key.Key_P,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible())
    dialog = panel.dialog
    assert dialog.windowTitle() == "Pause everything"
    qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)  # no reason yet: nothing happens
    assert dialog.isVisible() and not dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.reason_edit, "hosting incident")
    qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.dialog is None)

    [everything] = [r for r in window.services.console.list_switches() if r.scope == "global"]
    assert (everything.paused, everything.paused_by, everything.paused_reason) == (
        True,
        "ana",
        "hosting incident",
    )
    assert panel.pause_all_button.text() == "Resume all…"
    assert panel.pause_all_button.property("paused") is True
    qtbot.waitUntil(window.paused_banner.isVisible)
    assert window.paused_banner.text().startswith("Paused: everything (by ana ")
    qtbot.waitUntil(lambda: window.tray.state == "paused")
    assert window.tray.status.paused == ["everything"]


def test_a_failed_run_reaches_the_tray_and_the_notification_centre(
    qtbot, make_window, watched_workflow, watched_folder
):
    window = make_window(start_engine=True)
    console = window.services.console
    watched_workflow(console, "intake", read="json", patterns=("*.json",), retry=1)
    shown(qtbot, window)

    (watched_folder / "broken.json").write_text("{not json")
    qtbot.waitUntil(lambda: window.tray.state == "failure", timeout=20_000)
    [run] = console.list_runs("intake")
    assert run.status == "failed" and run.attempt == 2  # the notice came after the retry
    qtbot.waitUntil(lambda: bool(window.tray.messages))
    assert window.tray.messages == [
        (f"intake: run {run.id} failed", window.tray.messages[0][1], ("run", run.id))
    ]
    assert window.tray.messages[0][1]  # the error, in words

    window.show_page(nav.NOTIFICATIONS)
    page = window.page(nav.NOTIFICATIONS)
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    item = window.page_list.currentItem()
    qtbot.waitUntil(lambda: item.text() == "Notifications (1)")  # counted in the background
    page.table.selectRow(0)
    assert page.selected().title == f"intake: run {run.id} failed"
    qtbot.waitUntil(lambda: item.text() == "Notifications")
    qtbot.keyClicks(page.comment_edit, "bad export from the supplier")
    qtbot.mouseClick(page.ack_button, Qt.MouseButton.LeftButton)
    ev = AuditEvent.select().where(AuditEvent.action == "notice.acknowledged").get()
    assert (ev.actor, ev.run, ev.workflow, ev.reason) == (
        "ana",
        run.id,
        "intake",
        "bad export from the supplier",
    )
    qtbot.waitUntil(lambda: window.tray.state == "ok")
    assert console.unacknowledged_failures() == []
