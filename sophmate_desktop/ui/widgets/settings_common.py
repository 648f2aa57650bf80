"""Small pieces shared by the Settings and Welcome pages: a message line that says
what happened (or what went wrong and how to fix it) in place."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from sophmate_desktop.domain.errors import SecretsUnavailable, SophmateError

KEYRING_FIX = (
    "How to fix: install and unlock a Secret Service for your desktop session — "
    "GNOME Keyring (package gnome-keyring) or KWallet — then start SophMate Desktop again. "
    "On a test machine only, you may install keyrings.alt and start with "
    "SOPHMATE_ALLOW_INSECURE_KEYRING=1: secrets are then kept in a file that is not "
    "securely encrypted."
)


# A message's colour by level, used until the application style sheet has its own
# QLabel[level="..."] rules (a widget's own sheet would override those).
LEVEL_COLOURS = {"ok": "#2e7d32", "error": "#c62828"}


def _fallback_sheet(level: str) -> str:
    app = QApplication.instance()
    if isinstance(app, QApplication) and "[level=" in app.styleSheet():
        return ""
    colour = LEVEL_COLOURS.get(level)
    return f"color: {colour};" if colour else ""


def heading(text: str, parent: QWidget | None = None) -> QLabel:
    """A page's title line."""
    label = QLabel(text, parent)
    label.setObjectName("pageTitle")
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * 1.4)
    font.setBold(True)
    label.setFont(font)
    return label


def explain(exc: BaseException) -> str:
    """An error in words a person can act on."""
    if isinstance(exc, SecretsUnavailable):
        text = str(exc)
        return text if "Secret Service" in text else f"{text}. {KEYRING_FIX}"
    if isinstance(exc, SophmateError):
        return str(exc)
    return f"Unexpected error ({type(exc).__name__}): {exc}"


class MessageLabel(QLabel):
    """One line (or paragraph) of feedback; `level` is a dynamic property for the
    style sheet: "ok", "error", "info" or "" (hidden)."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.clear_message()

    @property
    def level(self) -> str:
        return str(self.property("level") or "")

    def _show(self, level: str, text: str) -> None:
        self.setProperty("level", level)
        self.setStyleSheet(_fallback_sheet(level))
        self.setText(text)
        self.setVisible(bool(text))
        # A changed dynamic property only restyles after a re-polish.
        self.style().unpolish(self)
        self.style().polish(self)

    def show_ok(self, text: str) -> None:
        self._show("ok", text)

    def show_info(self, text: str) -> None:
        self._show("info", text)

    def show_error(self, text: str) -> None:
        self._show("error", text)

    def show_exception(self, exc: BaseException) -> None:
        self._show("error", explain(exc))

    def clear_message(self) -> None:
        self._show("", "")


class KeyActions(QObject):
    """Runs a callable when `widget` receives one of the given keys (no modifiers):
    Enter on a table row opens it, Delete deletes it."""

    def __init__(self, widget: QWidget, actions: dict[Qt.Key, Callable[[], None]]) -> None:
        super().__init__(widget)
        self._actions = actions
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            action = self._actions.get(Qt.Key(event.key()))
            if action is not None and modifiers == Qt.KeyboardModifier.NoModifier:
                action()
                return True
        return super().eventFilter(watched, event)
