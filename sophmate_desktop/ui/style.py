"""The application's style sheet and icon, from the package resources."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
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


def apply_style(app: QApplication, palette: QPalette | None = None) -> None:
    """Install the shipped style sheet and the application icon on `app`. The style
    sheet takes its colours from the palette: the system's (light or dark), or
    `palette` when given (the screenshots tool's dark shots)."""
    if palette is not None:
        app.setPalette(palette)
    app.setStyleSheet(resources.style_sheet())
    app.setWindowIcon(svg_icon("app.svg"))


def dark_palette() -> QPalette:
    """A dark palette like a desktop's dark theme (for screenshots and tests; the
    running app follows the system's own)."""
    roles = QPalette.ColorRole
    colours = {
        roles.Window: "#2b2d30",
        roles.WindowText: "#e6e6e6",
        roles.Base: "#1e1f22",
        roles.AlternateBase: "#26282b",
        roles.Text: "#e6e6e6",
        roles.Button: "#3c3f41",
        roles.ButtonText: "#e6e6e6",
        roles.BrightText: "#ffffff",
        roles.Highlight: "#2f65ca",
        roles.HighlightedText: "#ffffff",
        roles.ToolTipBase: "#3c3f41",
        roles.ToolTipText: "#e6e6e6",
        roles.PlaceholderText: "#8c8c8c",
        roles.Link: "#6aa1ff",
        roles.Light: "#4a4d50",
        roles.Midlight: "#3f4245",
        roles.Mid: "#55585b",
        roles.Dark: "#1b1c1e",
        roles.Shadow: "#000000",
    }
    palette = QPalette()
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return palette
