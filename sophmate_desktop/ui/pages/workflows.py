"""The Workflows page (placeholder until its owner lands it)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from sophmate_desktop.ui.services import UiServices


class WorkflowsPage(QWidget):
    title = "Workflows"

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        QVBoxLayout(self).addWidget(QLabel("Workflows"))

    def refresh(self) -> None:
        """Re-read what the page shows (called when the page is shown)."""
