"""Without a system tray: the tray's messages go to the freedesktop Notifications
service on a real (private) session bus; a tray that appears later is picked up; the
first close to the tray says once that the engine keeps running."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QSystemTrayIcon

from sophmate_desktop.ui.tray import TrayController
from tests.support.factories import note
from tests.support.session_bus import SessionBus


@pytest.fixture
def session_bus(tmp_path, monkeypatch) -> Iterator[SessionBus]:
    why = SessionBus.missing()
    if why:
        pytest.skip(why)
    bus = SessionBus(tmp_path).start()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    yield bus
    bus.stop()


def test_without_a_tray_a_failure_reaches_the_desktop_notifications_service(
    qtbot, session_bus, services, two_categories, make_tray
):
    session_bus.start_notifications(dict(os.environ))
    tray = make_tray()
    assert tray.tray is None  # offscreen: no system tray
    qtbot.waitUntil(lambda: tray.desktop.available, timeout=5000)
    with qtbot.waitSignal(tray.desktop.delivered, timeout=5000):
        note(services.console, "run_failed", "wf-fin: run 7 failed", "disk full", run=7)
    [shown] = session_bus.notifications()
    assert shown["signature"] == "susssasa{sv}i"  # what GNOME's service insists on
    assert (shown["app"], shown["summary"], shown["icon"]) == (
        "SophMate Desktop",
        "wf-fin: run 7 failed",
        "dialog-error",
    )
    assert "disk full" in shown["body"] and shown["timeout"] == 15000


def test_a_bus_without_the_service_is_not_used(qtbot, session_bus, services, make_tray):
    tray = make_tray()
    with qtbot.waitSignal(tray.desktop.checked, timeout=5000) as checked:
        pass
    assert checked.args == [False] and not tray.desktop.available


def test_no_session_bus_means_no_desktop_notifications(qtbot, monkeypatch, services, make_tray):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    tray = make_tray()
    with qtbot.waitSignal(tray.desktop.checked, timeout=5000) as checked:
        pass
    assert checked.args == [False]


@pytest.mark.qt_log_ignore("systemTrayWindowChanged")  # offscreen has no tray window
def test_a_tray_that_appears_later_is_picked_up(qtbot, monkeypatch, services, make_tray):
    monkeypatch.setattr(TrayController, "tray_check_ms", 100)
    tray = make_tray()
    assert tray.look_for_tray() is False and tray.tray is None
    # The platform's answer is the one thing offscreen Qt cannot give: a tray appeared.
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    qtbot.waitUntil(lambda: tray.tray is not None, timeout=tray.tray_check_ms + 3000)
    assert tray.available and tray.tray.contextMenu() is tray.menu


def test_closing_to_the_tray_says_once_that_the_engine_keeps_running(services, make_tray):
    tray = make_tray()
    tray.say_keeps_running()
    tray.say_keeps_running()
    assert [m[0] for m in tray.messages] == ["SophMate Desktop keeps running"]
