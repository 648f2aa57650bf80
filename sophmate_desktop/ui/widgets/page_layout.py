"""A page taller than the window: its body scrolls, its title (if any) stays."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget


def scroll_page(page: QWidget, body: QWidget, *above: QWidget) -> QScrollArea:
    """Lay `page` out edge to edge: `above` (e.g. its title), then `body` in a
    frameless scroll area that gives it the page's width."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(body)
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in above:
        layout.addWidget(widget)
    layout.addWidget(scroll, 1)
    return scroll
