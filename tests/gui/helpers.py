"""Helpers the GUI tests share: putting a page on screen, driving buttons and fields
the way a person does, finding the window a click opened, the user's folders in the
test's temporary folder, and a real SMTP server with invoice files to feed it."""

from __future__ import annotations

import socket
from email.message import Message
from pathlib import Path
from typing import TypeVar

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler
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


# Real SMTP and invoice files -------------------------------------------------------


class _Keep(MessageHandler):
    def __init__(self, inbox: list[Message]) -> None:
        super().__init__()
        self.inbox = inbox

    def handle_message(self, message: Message) -> None:
        self.inbox.append(message)


class SmtpServer:
    """An SMTP server on 127.0.0.1 that keeps every message it receives. `settings()`
    are a connection's settings for it: the sender and any `extra` given here."""

    def __init__(self, sender: str = "invoices@example.test", **extra: object) -> None:
        self.received: list[Message] = []
        self.sender = sender
        self.extra = extra
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._controller = Controller(_Keep(self.received), hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def settings(self) -> dict:
        return {"host": "127.0.0.1", "port": self.port, "from": self.sender, **self.extra}

    def recipients(self) -> list[str]:
        return sorted(str(m["To"]) for m in self.received)


def invoice_csv(rows: int, first: int = 1) -> str:
    """A supplier-invoice export: one row per invoice, the supplier's address in `email`."""
    lines = ["number,supplier,email,amount"]
    for n in range(first, first + rows):
        lines.append(f"INV-{n:04},Supplier {n},supplier{n}@example.test,{100 + n}.50")
    return "\n".join(lines) + "\n"
