"""Requests to show a page or a record; the main window answers them.

Pages and the tray ask for navigation through this object (passed in, never looked
up globally), so a page does not need to know the window it lives in.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

# Page keys, in the order of the side bar.
DASHBOARD = "dashboard"
INBOX = "inbox"
WORKFLOWS = "workflows"
RUNS = "runs"
AUDIT = "audit"
REVIEWS = "reviews"
NOTIFICATIONS = "notifications"
SETTINGS = "settings"
WELCOME = "welcome"


class Navigator(QObject):
    page_requested = Signal(str)
    run_requested = Signal(int)
    workflow_requested = Signal(str)
    write_requested = Signal(int)

    def show_page(self, key: str) -> None:
        self.page_requested.emit(key)

    def show_run(self, run_id: int) -> None:
        self.run_requested.emit(run_id)

    def show_workflow(self, name: str) -> None:
        self.workflow_requested.emit(name)

    def show_write(self, write_id: int) -> None:
        self.write_requested.emit(write_id)
