"""Helpers the GUI tests share: putting a page on screen, driving buttons and fields
the way a person does, finding the window a click opened, and the user's folders in
the test's temporary folder (tests/support/mail.py has the SMTP server and the
invoice files)."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLineEdit, QWidget

WAIT_MS = 10_000
W = TypeVar("W", bound=QWidget)


# On screen -------------------------------------------------------------------------


def on_screen(qtbot, widget: W, width: int, height: int) -> W:
    """`widget` shown at width x height; qtbot closes it after the test."""
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    return widget


def isolate_user_dirs(monkeypatch: pytest.MonkeyPatch, base: Path) -> Path:
    """The user's config and data folders below `base`, not in the real home."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "data"))
    return base


# Driving it like a person ----------------------------------------------------------


def button(parent: QWidget, name: str) -> QAbstractButton:
    found = parent.findChild(QAbstractButton, name)
    assert found is not None, f"no button {name!r}"
    return found


def click(qtbot, parent: QWidget, name: str) -> None:
    """Click an enabled button found by its objectName."""
    target = button(parent, name)
    assert target.isEnabled(), f"{name} is disabled"
    qtbot.mouseClick(target, Qt.MouseButton.LeftButton)


def retype(qtbot, field: QLineEdit, text: str) -> None:
    """Select all in a line edit and type `text` over it."""
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(field, Qt.Key.Key_Backspace)
    if text:
        qtbot.keyClicks(field, text)


def wait_for_window(qtbot, cls: type[W], title: str | None = None, timeout: int = WAIT_MS) -> W:
    """The visible top-level window of `cls` (optionally with `title`) a click opened."""
    found: list[W] = []

    def visible() -> bool:
        found[:] = [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, cls) and w.isVisible() and (title is None or w.windowTitle() == title)
        ]
        return bool(found)

    qtbot.waitUntil(visible, timeout=timeout)
    return found[-1]
