"""The application's style sheet and icon, from the package resources."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from sophmate_desktop import resources

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def svg_icon(name: str) -> QIcon:
    """A shipped SVG icon rendered at the usual sizes (no icon-engine plug-in needed)."""
    renderer = QSvgRenderer(QByteArray(resources.icon_bytes(name)))
    if not renderer.isValid():
        raise ValueError(f"icon {name!r} is not a valid SVG")
    icon = QIcon()
    for size in ICON_SIZES:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter)
        painter.end()
        icon.addPixmap(pixmap)
    return icon


def apply_style(app: QApplication) -> None:
    """Install the shipped style sheet and the application icon on `app`."""
    app.setStyleSheet(resources.style_sheet())
    app.setWindowIcon(svg_icon("app.svg"))
