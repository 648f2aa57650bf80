"""The kill-switch panel at the top of the main window (placeholder until it lands)."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from sophmate_desktop.ui.services import UiServices


class KillSwitchPanel(QWidget):
    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("killSwitchPanel")
        self.services = services
        self.pause_all_action = QAction("Pause all…", self)
        self.pause_all_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        layout = QHBoxLayout(self)
        layout.addWidget(QLabel("Kill switches"))
        button = QPushButton("Pause all")
        button.setObjectName("pauseAllButton")
        layout.addWidget(button)

    def refresh(self) -> None:
        pass


class PausedBanner(QLabel):
    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pausedBanner")
        self.hide()

    def refresh(self) -> None:
        pass
