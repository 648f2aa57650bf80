"""Small dialogs of the workflows page. Each is opened with `open()` (window-modal, no
nested event loop) and reports through a signal, so the page never blocks."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.ui.preferences import Preferences
from sophmate_desktop.ui.translation import translate

YAML_FILTER = QT_TRANSLATE_NOOP("sophmate", "Workflow files (*.yaml *.yml);;All files (*)")


class _ActionDialog(QDialog):
    """Window-modal and deleted on close: the explanation, what a subclass adds to
    `self.body`, then the action button (`ok_button`) and Cancel."""

    def __init__(
        self, title: str, text: str, ok_text: str, width: int, parent: QWidget | None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(width)
        explanation = QLabel(text)
        explanation.setObjectName("dialogExplanation")
        explanation.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.ok_button.setObjectName("confirmButton")
        self.buttons.rejected.connect(self.reject)
        self.body = QVBoxLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        layout.addLayout(self.body)
        layout.addWidget(self.buttons)


class ConfirmDialog(_ActionDialog):
    """A question with one action button (e.g. "Promote") and Cancel."""

    def __init__(self, title: str, text: str, ok_text: str, parent: QWidget | None = None):
        super().__init__(title, text, ok_text, 420, parent)
        self.buttons.accepted.connect(self.accept)


class ReasonDialog(_ActionDialog):
    """Asks for a reason (required); OK emits `submitted(reason)`."""

    submitted = Signal(str)

    def __init__(self, title: str, text: str, ok_text: str, parent: QWidget | None = None) -> None:
        super().__init__(title, text, ok_text, 440, parent)
        label = QLabel(translate("sophmate", "&Reason (required; kept in the audit trail):"))
        self.reason_edit = QLineEdit()
        self.reason_edit.setObjectName("reasonEdit")
        label.setBuddy(self.reason_edit)
        self.ok_button.setEnabled(False)
        self.reason_edit.textChanged.connect(
            lambda text: self.ok_button.setEnabled(bool(text.strip()))
        )
        self.buttons.accepted.connect(self._submit)
        self.body.addWidget(label)
        self.body.addWidget(self.reason_edit)
        # The buttons were made first: the reason comes first all the same.
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        QWidget.setTabOrder(self.reason_edit, self.ok_button)
        QWidget.setTabOrder(self.ok_button, cancel)
        self.reason_edit.setFocus()

    def _submit(self) -> None:
        reason = self.reason_edit.text().strip()
        if not reason:
            return
        self.accept()
        self.submitted.emit(reason)


def _remember(dialog: QFileDialog, kind: str, preferences: Preferences) -> None:
    dialog.setDirectory(preferences.last_folder(kind))
    dialog.fileSelected.connect(lambda path: preferences.remember_file(kind, path))


def file_dialog(
    parent: QWidget, title: str, preferences: Preferences, *, save: bool, default_name: str = ""
) -> QFileDialog:
    """A workflow-file dialog on `*.yaml` files in the folder of the last one chosen
    (remembered across starts); the caller connects `fileSelected` and calls `open()`."""
    dialog = QFileDialog(parent, title)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setNameFilter(translate("sophmate", YAML_FILTER))
    _remember(dialog, "workflow", preferences)
    if save:
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setDefaultSuffix("yaml")
        if default_name:
            folder = Path(preferences.last_folder("workflow"))
            dialog.selectFile(str(folder / Path(default_name).name))
    else:
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    return dialog


def input_file_dialog(parent: QWidget, title: str, preferences: Preferences) -> QFileDialog:
    """Any existing file (the trigger file of a dry run)."""
    dialog = QFileDialog(parent, title)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    _remember(dialog, "input", preferences)
    return dialog
