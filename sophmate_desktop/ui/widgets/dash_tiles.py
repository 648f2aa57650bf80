"""A dashboard count tile: a big number, what it counts, and a line of detail.

A push button underneath, so it takes focus, answers Space and Enter, and is
announced as a button; the labels let clicks through to it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from sophmate_desktop.ui.translation import translate

ALERT_COLOUR = QColor("#c62828")


class CountTile(QPushButton):
    def __init__(
        self, key: str, caption: str, caption_one: str | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.key = key
        self.caption = caption  # what it counts, in the plural ("writes await approval")
        self._captions = (caption_one or caption, caption)
        self.setObjectName(f"{key}Tile")
        self.setProperty("dashTile", key)
        self.setProperty("alert", False)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(92)

        self.number = QLabel(translate("sophmate", "–"))
        self.number.setObjectName("tileNumber")
        big = QFont(self.font())
        big.setPointSizeF(max(big.pointSizeF(), 9.0) * 2.4)
        big.setBold(True)
        self.number.setFont(big)
        self.label = QLabel(caption)
        self.label.setObjectName("tileCaption")
        self.detail = QLabel("")
        self.detail.setObjectName("tileDetail")
        self.detail.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.setSpacing(0)
        for child in (self.number, self.label, self.detail):
            child.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            layout.addWidget(child)

    def set_count(self, value: int, detail: str = "", *, alert: bool = False) -> None:
        self.number.setText(f"{value:,}")
        self.label.setText(self.caption_for(value))
        self.detail.setText(detail)
        self.detail.setVisible(bool(detail))
        self.setProperty("alert", alert)
        palette = self.number.palette()
        colour = ALERT_COLOUR if alert else self.palette().color(QPalette.ColorRole.ButtonText)
        # Inside a button a label paints with ButtonText: set both roles.
        palette.setColor(QPalette.ColorRole.WindowText, colour)
        palette.setColor(QPalette.ColorRole.ButtonText, colour)
        self.number.setPalette(palette)
        caption = self.caption_for(value)
        self.setAccessibleName(f"{value:,} {caption}")
        self.setAccessibleDescription(detail or caption)
        self.setToolTip(f"{value:,} {caption}" + (f"\n{detail}" if detail else ""))
        self.style().unpolish(self)
        self.style().polish(self)

    def caption_for(self, value: int) -> str:
        """ "1 write awaits approval", "2 writes await approval"."""
        return self._captions[0] if value == 1 else self._captions[1]

    def count_text(self) -> str:
        return self.number.text()
