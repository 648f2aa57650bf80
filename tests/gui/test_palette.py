"""The window follows the palette: under a dark one the side bar is dark with light
text and its selected page in the highlight colour (the style sheet hard-coded a
light grey there, so a dark theme's light text nearly vanished)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from sophmate_desktop.ui import navigator as nav
from sophmate_desktop.ui.style import apply_style, dark_palette


@pytest.fixture
def dark(qtbot) -> Iterator[QPalette]:
    app = QApplication.instance()
    palette, sheet = app.palette(), app.styleSheet()
    dark = dark_palette()
    apply_style(app, dark)
    yield dark
    app.setStyleSheet(sheet)
    app.setPalette(palette)


def near(a: QColor, b: QColor) -> bool:
    return all(abs(x - y) <= 12 for x, y in zip(a.getRgb()[:3], b.getRgb()[:3], strict=True))


def brightness(colour: QColor) -> float:
    return 0.299 * colour.red() + 0.587 * colour.green() + 0.114 * colour.blue()


def test_the_side_bar_follows_a_dark_palette(make_window, dark, qtbot):
    window = make_window()
    window.resize(1024, 700)
    window.show()
    window.show_page(nav.INBOX)
    qtbot.waitExposed(window)
    bar = window.page_list
    image = bar.grab().toImage()
    empty = image.pixelColor(10, image.height() - 10)  # below the last page
    assert near(empty, dark.color(QPalette.ColorRole.Window)), empty.name()
    selected = bar.visualItemRect(bar.currentItem())
    assert near(
        image.pixelColor(selected.right() - 4, selected.center().y()),
        dark.color(QPalette.ColorRole.Highlight),
    )
    # some text of an unselected page is drawn light on the dark bar
    other = bar.visualItemRect(bar.item(0))
    texts = [
        image.pixelColor(x, y)
        for x in range(other.left(), other.left() + 80)
        for y in range(other.top(), other.bottom())
    ]
    assert max(brightness(c) for c in texts) > 180
    assert brightness(empty) < 80
