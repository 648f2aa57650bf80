"""A page's message line (refusals, outcomes) that knows what its text is about, so
the page can take it down when that fact stops being true (a refusal to enable a
workflow whose checklist has since been completed, a different workflow selected)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

TONES = {"error": "color: #c62828;", "ok": "color: #2e7d32;", "info": ""}


class PageMessage(QLabel):
    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.about: str | None = None
        self.hide()

    def say(self, text: str, tone: str = "info", about: str | None = None) -> None:
        """Show `text` (empty: hide the line); `about` names the record it concerns."""
        self.about = about if text else None
        self.setText(text)
        self.setProperty("tone", tone)
        # "info" keeps the palette's text colour: readable in light and dark themes
        self.setStyleSheet(TONES[tone])
        self.setAccessibleDescription(text)
        self.setVisible(bool(text))

    def drop_unless_about(self, name: str | None) -> None:
        """Take down a message about another record than `name`."""
        if self.about is not None and self.about != name:
            self.say("")
