"""Rows of controls that wrap to a new line instead of widening the window: the
filter bars and tool bars of the pages, so every page fits a 1024 px laptop screen."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from sophmate_desktop.ui.widgets.switch_flow import FlowLayout


def wrapping(widget: QWidget, spacing: int = 6) -> FlowLayout:
    """Give `widget` a flow layout (left to right, wrapping) and the size policy that
    lets its height follow its width."""
    layout = FlowLayout(widget, spacing)
    policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
    policy.setHeightForWidth(True)
    widget.setSizePolicy(policy)
    return layout


def labelled(text: str, field: QWidget) -> QWidget:
    """`field` after its label, kept together on one line ("&Workflow": Alt+W
    focuses the field)."""
    pair = QWidget()
    row = QHBoxLayout(pair)
    row.setContentsMargins(0, 0, 0, 0)
    label = QLabel(text, pair)
    label.setBuddy(field)
    row.addWidget(label)
    row.addWidget(field)
    return pair


def add_all(layout: FlowLayout, widgets: Iterable[QWidget]) -> None:
    for widget in widgets:
        layout.addWidget(widget)
