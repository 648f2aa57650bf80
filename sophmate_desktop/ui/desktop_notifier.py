"""Desktop notifications where there is no system tray (GNOME, for one): the
freedesktop Notifications service on the session bus.

The call goes through jeepney (on Linux it comes with keyring), not QtDBus: the
service's Notify takes a uint32 and typed arrays (`susssasa{sv}i`), which PySide6
cannot produce from Python values, and GNOME's service refuses any other signature.
Calls run on the task pool with a timeout, so a slow bus never holds the window.
"""

from __future__ import annotations

import logging
import os

from PySide6.QtCore import QObject, Signal

from sophmate_desktop.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
APP_NAME = "SophMate Desktop"
CALL_TIMEOUT_S = 3.0
URGENCY = {"info": 1, "warning": 1, "failure": 2}  # low 0, normal 1, critical 2
ICONS = {"info": "dialog-information", "warning": "dialog-warning", "failure": "dialog-error"}


def service_present() -> bool:
    """Whether the session bus has a Notifications service (running or activatable)."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return False
    try:
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection
    except ImportError:  # not on Linux: no freedesktop service to talk to
        return False
    with open_dbus_connection(bus="SESSION") as conn:
        owned = conn.send_and_get_reply(message_bus.NameHasOwner(SERVICE), timeout=CALL_TIMEOUT_S)
        if owned.body[0]:
            return True
        names = conn.send_and_get_reply(message_bus.ListActivatableNames(), timeout=CALL_TIMEOUT_S)
        return SERVICE in names.body[0]


def notify(title: str, body: str, level: str = "info", timeout_ms: int = 8000) -> int:
    """Show one notification; returns the id the service gave it (blocking)."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection
    from jeepney.wrappers import unwrap_msg

    address = DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE)
    hints = {"urgency": ("y", URGENCY.get(level, 1))}
    args = (APP_NAME, 0, ICONS.get(level, ""), title, body, [], hints, timeout_ms)
    call = new_method_call(address, "Notify", "susssasa{sv}i", args)
    with open_dbus_connection(bus="SESSION") as conn:
        reply = conn.send_and_get_reply(call, timeout=CALL_TIMEOUT_S)
    return int(unwrap_msg(reply)[0])


class DesktopNotifier(QObject):
    """`available` once the service was found (checked in the background at start)."""

    checked = Signal(bool)
    delivered = Signal(int)
    failed = Signal(str)

    def __init__(self, tasks: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self.available = False
        self.sent: list[int] = []

    def check(self) -> None:
        self._tasks.run(service_present, self._checked, self._check_failed, report=False)

    def _checked(self, present: bool) -> None:
        self.available = bool(present)
        self.checked.emit(self.available)

    def _check_failed(self, error: BaseException) -> None:
        log.info("no desktop notifications over D-Bus: %s", error)
        self._checked(False)

    def show(self, title: str, body: str, level: str = "info") -> None:
        timeout = 15_000 if level == "failure" else 8_000
        self._tasks.run(
            lambda: notify(title, body, level, timeout), self._sent, self._failed, report=False
        )

    def _sent(self, notification_id: int) -> None:
        self.sent.append(notification_id)
        self.delivered.emit(notification_id)

    def _failed(self, error: BaseException) -> None:
        log.warning("desktop notification failed: %s", error)
        self.failed.emit(str(error))
