"""Small dialogs of the workflows page. Each is opened with `open()` (window-modal, no
nested event loop) and reports through a signal, so the page never blocks."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

YAML_FILTER = "Workflow files (*.yaml *.yml);;All files (*)"


class ConfirmDialog(QDialog):
    """A question with one action button (e.g. "Promote") and Cancel."""

    def __init__(self, title: str, text: str, ok_text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(420)
        label = QLabel(text)
        label.setObjectName("dialogExplanation")
        label.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.ok_button.setObjectName("confirmButton")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(buttons)


class ReasonDialog(QDialog):
    """Asks for a reason (required); OK emits `submitted(reason)`."""

    submitted = Signal(str)

    def __init__(self, title: str, text: str, ok_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(440)
        explanation = QLabel(text)
        explanation.setObjectName("dialogExplanation")
        explanation.setWordWrap(True)
        label = QLabel("&Reason (required; kept in the audit trail):")
        self.reason_edit = QLineEdit()
        self.reason_edit.setObjectName("reasonEdit")
        label.setBuddy(self.reason_edit)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.ok_button.setObjectName("confirmButton")
        self.ok_button.setEnabled(False)
        self.reason_edit.textChanged.connect(
            lambda text: self.ok_button.setEnabled(bool(text.strip()))
        )
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        layout.addWidget(label)
        layout.addWidget(self.reason_edit)
        layout.addWidget(buttons)

    def _submit(self) -> None:
        reason = self.reason_edit.text().strip()
        if not reason:
            return
        self.accept()
        self.submitted.emit(reason)


def file_dialog(parent: QWidget, title: str, *, save: bool, default_name: str = "") -> QFileDialog:
    """A workflow-file dialog; the caller connects `fileSelected` and calls `open()`."""
    dialog = QFileDialog(parent, title)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setNameFilter(YAML_FILTER)
    if save:
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setDefaultSuffix("yaml")
        if default_name:
            dialog.selectFile(default_name)
    else:
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    return dialog


def input_file_dialog(parent: QWidget, title: str) -> QFileDialog:
    """Any existing file (the trigger file of a dry run)."""
    dialog = QFileDialog(parent, title)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    return dialog
