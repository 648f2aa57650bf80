"""The tray's state icons: the shipped SVGs, or plain coloured circles drawn here when
an SVG cannot be loaded (a build without Qt's SVG image plug-in)."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QT_TRANSLATE_NOOP, QBuffer, QByteArray, QIODevice, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QImageReader, QPainter, QPen, QPixmap

TRAY_STATES = ("ok", "pending", "paused", "failure")
STATE_COLOURS = {
    "ok": "#2e7d32",
    "pending": "#f29900",
    "paused": "#6b6b6b",
    "failure": "#c62828",
}
STATE_WORDS = {  # marked for lupdate here, translated where shown
    "ok": QT_TRANSLATE_NOOP("sophmate", "All running normally"),
    "pending": QT_TRANSLATE_NOOP("sophmate", "Writes await approval"),
    "paused": QT_TRANSLATE_NOOP("sophmate", "Paused"),
    "failure": QT_TRANSLATE_NOOP("sophmate", "A run failed"),
}


def _svg_pixmap(name: str, size: int) -> QPixmap | None:
    try:
        from sophmate_desktop.resources import icon_bytes

        data = icon_bytes(name)
    except (ImportError, OSError, ValueError):
        return None
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer, b"svg")
    reader.setScaledSize(QSize(size, size))  # rendered at this size, not scaled up
    image = reader.read()
    buffer.close()
    return None if image.isNull() else QPixmap.fromImage(image)


def drawn_pixmap(state: str, size: int = 64) -> QPixmap:
    """A filled circle in the state's colour (paused: grey with a red ring)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    ring = max(2, size // 12)
    if state == "paused":
        painter.setPen(QPen(QColor(STATE_COLOURS["failure"]), ring))
    else:
        painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(QColor(STATE_COLOURS.get(state, STATE_COLOURS["ok"]))))
    painter.drawEllipse(ring, ring, size - 2 * ring, size - 2 * ring)
    painter.end()
    return pixmap


@cache
def tray_icon(state: str) -> QIcon:
    """The icon for a tray state: "ok", "pending", "paused" or "failure"."""
    icon = QIcon()
    for size in (16, 22, 24, 32, 48, 64):
        pixmap = _svg_pixmap(f"tray-{state}", size) or drawn_pixmap(state, size)
        icon.addPixmap(pixmap)
    return icon
