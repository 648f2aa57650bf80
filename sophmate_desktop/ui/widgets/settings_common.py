"""Small pieces shared by the Settings and Welcome pages: a message line that says
what happened (or what went wrong and how to fix it) in place, hints, read-only
values, button rows, short tables and yes/cancel questions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QEvent, QObject, Qt
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QTableWidget,
    QWidget,
)

from sophmate_desktop.domain.errors import SecretsUnavailable, SophmateError
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.tables import setup_rows

_KEYRING_FIX = QT_TRANSLATE_NOOP(
    "sophmate",
    "How to fix: install and unlock a Secret Service for your desktop session — "
    "GNOME Keyring (package gnome-keyring) or KWallet — then start SophMate Desktop again. "
    "On a test machine only, you may install keyrings.alt and start with "
    "SOPHMATE_ALLOW_INSECURE_KEYRING=1: secrets are then kept in a file that is not "
    "securely encrypted.",
)


def keyring_fix() -> str:
    """How to make the keyring usable, in the window's language."""
    return translate("sophmate", _KEYRING_FIX)


# A message's colour by level, used until the application style sheet has its own
# QLabel[level="..."] rules (a widget's own sheet would override those).
LEVEL_COLOURS = {"ok": "#2e7d32", "warning": "#b26a00", "error": "#c62828"}


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
        return text if "Secret Service" in text else f"{text}. {keyring_fix()}"
    if isinstance(exc, SophmateError):
        return str(exc)
    return translate("sophmate", "Unexpected error ({kind}): {error}").format(
        kind=type(exc).__name__, error=exc
    )


def hint(text: str) -> QLabel:
    """A wrapped explanation in the style sheet's quieter "hint" look."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setObjectName("hint")
    return label


def value_label(object_name: str) -> QLabel:
    """A value the app shows (a path, a name): plain text, wrapped, selectable."""
    label = QLabel()
    label.setObjectName(object_name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def button_row(*buttons: QAbstractButton) -> QHBoxLayout:
    """The buttons side by side from the left."""
    row = QHBoxLayout()
    for button in buttons:
        row.addWidget(button)
    row.addStretch(1)
    return row


def ask(
    parent: QWidget,
    object_name: str,
    title: str,
    text: str,
    yes_text: str,
    on_yes: Callable[[], None],
    icon: QMessageBox.Icon = QMessageBox.Icon.Question,
) -> QMessageBox:
    """Open a window-modal yes/cancel question (Cancel is the default); `on_yes` runs
    when the person clicks `yes_text`. Returns the open box."""
    box = QMessageBox(
        icon,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.setObjectName(object_name)
    yes = box.button(QMessageBox.StandardButton.Yes)
    yes.setText(yes_text)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.buttonClicked.connect(lambda button: on_yes() if button is yes else None)
    box.open()
    return box


class MessageLabel(QLabel):
    """One line (or paragraph) of feedback; `level` is a dynamic property for the
    style sheet: "ok", "warning", "error", "info" or "" (hidden)."""

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

    def show_warning(self, text: str) -> None:
        self._show("warning", text)

    def show_error(self, text: str) -> None:
        self._show("error", text)

    def show_keyring(self, status: Any, ok_text: str, error_text: str) -> None:
        """A keyring status: green only when secure; a plaintext backend the user
        allowed works but is a warning; an unusable one an error."""
        if status.usable and status.insecure:
            self.show_warning(
                self.tr(
                    "Secrets are NOT protected: {message} Anyone who can read your "
                    "files can read them. {fix}"
                ).format(message=status.message, fix=keyring_fix())
            )
        elif status.usable:
            self.show_ok(ok_text)
        else:
            self.show_error(error_text)

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


def section_table(object_name: str, columns: Sequence[str]) -> QTableWidget:
    """A settings section's short table of whole, read-only rows."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels([translate("sophmate", c) for c in columns])
    setup_rows(table, object_name, alternating=False)
    table.setMinimumHeight(120)
    table.setMaximumHeight(220)
    return table
