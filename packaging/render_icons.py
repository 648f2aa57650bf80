"""Render the application icon into the hicolor sizes desktops expect.

    QT_QPA_PLATFORM=offscreen python packaging/render_icons.py [--check]

The master is sophmate_desktop/resources/icons/app.svg (it also ships in the wheel);
this writes packaging/icons/hicolor/NxN/apps/io.sophmate.Desktop.png for each size
and a copy of the SVG under scalable/apps/. `--check` writes nothing and exits 1 when
the committed files differ from a fresh render.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

APP_ID = "io.sophmate.Desktop"
SIZES = (16, 24, 32, 48, 64, 128, 256)
HERE = Path(__file__).resolve().parent
MASTER = HERE.parent / "sophmate_desktop" / "resources" / "icons" / "app.svg"
HICOLOR = HERE / "icons" / "hicolor"


def render_png(svg: bytes, size: int) -> bytes:
    """The SVG drawn on a transparent size x size canvas, as PNG bytes."""
    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise ValueError("the SVG does not parse")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def targets(svg: bytes) -> dict[Path, bytes]:
    """Every file under hicolor/ and the bytes it should hold."""
    out = {HICOLOR / "scalable" / "apps" / f"{APP_ID}.svg": svg}
    for size in SIZES:
        out[HICOLOR / f"{size}x{size}" / "apps" / f"{APP_ID}.png"] = render_png(svg, size)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    stale = []
    for path, data in targets(MASTER.read_bytes()).items():
        if path.is_file() and path.read_bytes() == data:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    for path in stale:
        verb = "stale" if args.check else "wrote"
        print(f"{verb} {path.relative_to(HERE)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
