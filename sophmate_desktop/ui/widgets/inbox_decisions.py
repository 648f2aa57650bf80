"""The inbox's decision bar: the in-place message line, the comment and the buttons,
and the words that say how a decision went."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.domain.errors import SophmateError
from sophmate_desktop.ui.translation import translate

LEVEL_COLOURS = {"error": "#b3261e", "warning": "#8a5a00", "ok": "#1b5e20"}


def resolve_each(
    ids: Sequence[int], call: Callable[[int, str | None], Any], comment: str | None
) -> tuple[list[tuple[int, str | None]], list[str]]:
    """On a task thread: `call` each write, one refusal not stopping the others.
    Returns ((id, refusal or None) per write, the notes `call` returned as text)."""
    outcome: list[tuple[int, str | None]] = []
    waits: list[str] = []
    for write_id in ids:
        try:
            note = call(write_id, comment)
        except SophmateError as exc:
            outcome.append((write_id, str(exc)))
            continue
        outcome.append((write_id, None))
        if isinstance(note, str):
            waits.append(note)
    return outcome, waits


def confirm_box(
    parent: QWidget, question: str, detail: str, closed: Callable[[bool], None]
) -> QMessageBox:
    """Open a window-modal question; `closed(True)` when the person said yes."""
    box = QMessageBox(
        QMessageBox.Icon.Question, translate("sophmate", "Confirm"), question, parent=parent
    )
    box.setObjectName("confirmDecision")
    box.setInformativeText(detail)
    yes = box.addButton(question.rstrip("?"), QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(yes)

    def done(_result: int) -> None:
        box.deleteLater()
        closed(box.clickedButton() is yes)

    box.finished.connect(done)
    box.open()
    return box


def _button(text: str, name: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setToolTip(tip)
    return button


class InboxDecisionBar(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inboxDecisionBar")
        self.message = QLabel()
        self.message.setObjectName("decisionMessage")
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        self.comment = QLineEdit()
        self.comment.setObjectName("commentEdit")
        self.comment.setPlaceholderText(
            translate("sophmate", "Comment for the decision (required to reject)")
        )
        self.comment.setClearButtonEnabled(True)
        comment_label = QLabel(translate("sophmate", "Co&mment"))
        comment_label.setBuddy(self.comment)
        self.approve = _button(
            self.tr("Appro&ve"), "approveButton", self.tr("Approve the selected writes (A)")
        )
        self.reject = _button(
            self.tr("&Reject"), "rejectButton", self.tr("Reject the selected writes (R)")
        )
        self.mark_applied = _button(
            self.tr("Mark applie&d"),
            "markAppliedButton",
            self.tr("You checked that this interrupted write took effect: record it as applied"),
        )
        self.retry = _button(
            self.tr("Retr&y"),
            "retryButton",
            self.tr("Apply this interrupted write again (it may happen twice)"),
        )
        self.busy = QProgressBar()
        self.busy.setObjectName("inboxBusy")
        self.busy.setRange(0, 0)  # no known end: a moving bar
        self.busy.setMaximumWidth(120)
        self.busy.setTextVisible(False)
        self.busy.setVisible(False)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(comment_label)
        row.addWidget(self.comment, 1)
        row.addWidget(self.busy)
        for button in (self.mark_applied, self.retry, self.reject, self.approve):
            row.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.message)
        layout.addLayout(row)
        self.is_busy = False
        self.set_selection(0, 0)

    def set_message(self, text: str, level: str = "info") -> None:
        """Say in place what happened (level: info, ok, warning, error)."""
        self.message.setText(text)
        self.message.setProperty("level", level)
        # A palette colour, not a style sheet: the app's style.qss may restyle [level=...].
        palette = self.palette()
        colour = LEVEL_COLOURS.get(level)
        if colour is not None:
            palette.setColor(QPalette.ColorRole.WindowText, QColor(colour))
        self.message.setPalette(palette)
        self.message.setVisible(bool(text))

    def clear_message(self) -> None:
        self.set_message("")

    def set_selection(self, pending: int, interrupted: int) -> None:
        """Enable what applies to the selection: decide pending, resolve interrupted."""
        self._pending, self._interrupted = pending, interrupted
        self._update()

    def set_busy(self, busy: bool) -> None:
        self.is_busy = busy
        self.busy.setVisible(busy)
        self._update()

    def _update(self) -> None:
        idle = not self.is_busy
        self.approve.setEnabled(idle and self._pending > 0)
        self.reject.setEnabled(idle and self._pending > 0)
        self.mark_applied.setVisible(self._interrupted > 0)
        self.retry.setVisible(self._interrupted > 0)
        self.mark_applied.setEnabled(idle and self._interrupted > 0)
        self.retry.setEnabled(idle and self._interrupted > 0)
        self.comment.setEnabled(idle)
