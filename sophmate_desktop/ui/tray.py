"""The system tray icon and its menu (placeholder until it lands)."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from sophmate_desktop.ui.services import UiServices


class TrayController(QObject):
    def __init__(
        self,
        services: UiServices,
        *,
        open_window: QAction,
        pause_all: QAction,
        quit_app: QAction,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.available = False

    def close(self) -> None:
        pass
