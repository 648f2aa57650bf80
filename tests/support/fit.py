"""Does a window fit its size? Every visible widget inside its parent (a scroll
area's content excepted: it scrolls) and inside the window."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

SLACK = 2  # frames drawn one or two pixels over an edge are not cut off


def _scrolled(widget: QWidget) -> bool:
    """Inside a scroll area's viewport: its place may lie outside on purpose."""
    parent = widget.parentWidget()
    while parent is not None and not parent.isWindow():
        grand = parent.parentWidget()
        if isinstance(grand, QAbstractScrollArea) and parent is grand.viewport():
            return True
        parent = grand
    return False


def _inside(inner: QRect, outer: QRect) -> bool:
    return outer.adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(inner)


def cut_off(window: QWidget) -> list[str]:
    """The visible widgets of `window` that stick out of their parent or the window."""
    frame = window.rect()
    problems = []
    for widget in window.findChildren(QWidget):
        if widget.isWindow() or not widget.isVisibleTo(window) or _scrolled(widget):
            continue
        if widget.width() <= 0 or widget.height() <= 0:
            continue
        top_left = widget.mapTo(window, widget.rect().topLeft())
        in_window = QRect(top_left, widget.size())
        parent = widget.parentWidget()
        name = widget.objectName() or type(widget).__name__
        if not _inside(in_window, frame):
            problems.append(f"{name} at {in_window.getRect()} outside the window {frame.getRect()}")
        elif parent is not None and not _inside(widget.geometry(), parent.rect()):
            problems.append(
                f"{name} at {widget.geometry().getRect()} outside its parent "
                f"{parent.objectName() or type(parent).__name__} {parent.rect().getRect()}"
            )
    return problems
