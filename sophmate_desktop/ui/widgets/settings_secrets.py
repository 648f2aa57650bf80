"""Settings → Secrets: names of the secrets in the OS keyring; set, replace, delete.

A value is typed into a password field and handed to the console; it is never shown,
never read back from the keyring, and the field is cleared as soon as it is taken.
Keyring calls run off the GUI thread (a locked keyring can hang).
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.settings_common import (
    KeyActions,
    MessageLabel,
    ask,
    button_row,
    hint,
    keyring_fix,
    section_table,
)


class SecretDialog(QDialog):
    """Name and value of a secret to set; `name` given: replace that one's value."""

    def __init__(self, name: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("secretDialog")
        self.setWindowTitle(
            self.tr("Replace the value of {name}").format(name=name)
            if name
            else self.tr("Set a secret")
        )
        self.setMinimumWidth(440)
        self.name_edit = QLineEdit(name or "")
        self.name_edit.setObjectName("secretNameEdit")
        self.name_edit.setPlaceholderText(translate("sophmate", "e.g. status_api_token"))
        self.name_edit.setReadOnly(name is not None)
        self.value_edit = QLineEdit()
        self.value_edit.setObjectName("secretValueEdit")
        self.value_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat_edit = QLineEdit()
        self.repeat_edit.setObjectName("secretRepeatEdit")
        self.repeat_edit.setEchoMode(QLineEdit.EchoMode.Password)
        for edit in (self.value_edit, self.repeat_edit):
            # No copy, drag or context menu out of a password field.
            edit.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
            edit.setDragEnabled(False)
        note = hint(
            self.tr(
                "The value goes to your OS keyring only. It is never shown again, never "
                "stored in the database and never written to the audit trail."
            )
        )
        self.problem = MessageLabel("secretDialogProblem")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(
            self.tr("&Store in keyring")
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(self.tr("&Name:"), self.name_edit)
        form.addRow(self.tr("&Value:"), self.value_edit)
        form.addRow(self.tr("Re&peat value:"), self.repeat_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        for edit in (self.name_edit, self.value_edit, self.repeat_edit):
            edit.textChanged.connect(self._check)
        self._check()
        (self.value_edit if name else self.name_edit).setFocus()

    def _check(self) -> None:
        value, repeat = self.value_edit.text(), self.repeat_edit.text()
        ok = bool(self.name_edit.text().strip()) and bool(value) and value == repeat
        if repeat and value != repeat:
            self.problem.show_error(self.tr("The two values differ."))
        else:
            self.problem.clear_message()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def take(self) -> tuple[str, str]:
        """(name, value), clearing the password fields."""
        name, value = self.name_edit.text().strip(), self.value_edit.text()
        self.value_edit.clear()
        self.repeat_edit.clear()
        return name, value


class SecretsSection(QGroupBox):
    COLUMNS = (
        QT_TRANSLATE_NOOP("sophmate", "Name"),
        QT_TRANSLATE_NOOP("sophmate", "Last set"),
        QT_TRANSLATE_NOOP("sophmate", "By"),
        QT_TRANSLATE_NOOP("sophmate", "Used by connection"),
    )

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Secrets by name"), parent)
        self.setObjectName("secretsSection")
        self.services = services
        self.dialog: SecretDialog | None = None
        self.confirm: QMessageBox | None = None
        self._busy = False

        self.status = MessageLabel("keyringStatus")
        self.table = section_table("secretsTable", self.COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(self.replace_selected)
        KeyActions(
            self.table,
            {
                Qt.Key.Key_Return: self.replace_selected,
                Qt.Key.Key_Enter: self.replace_selected,
                Qt.Key.Key_Delete: self.delete_selected,
            },
        )

        self.set_button = QPushButton(translate("sophmate", "&Set a secret…"))
        self.set_button.setObjectName("setSecretButton")
        self.set_button.clicked.connect(self.set_new)
        self.replace_button = QPushButton(translate("sophmate", "&Replace value…"))
        self.replace_button.setObjectName("replaceSecretButton")
        self.replace_button.clicked.connect(self.replace_selected)
        self.delete_button = QPushButton(translate("sophmate", "&Delete…"))
        self.delete_button.setObjectName("deleteSecretButton")
        self.delete_button.clicked.connect(self.delete_selected)
        self.message = MessageLabel("secretsMessage")

        layout = QVBoxLayout(self)
        layout.addWidget(
            hint(
                self.tr(
                    "Workflows and connections refer to secrets by name; the values live in "
                    "your OS keyring (service “sophmate-desktop”) and are never shown here."
                )
            )
        )
        layout.addWidget(self.status)
        layout.addWidget(self.table)
        layout.addLayout(button_row(self.set_button, self.replace_button, self.delete_button))
        layout.addWidget(self.message)
        self._update_buttons()

    # Reading ----------------------------------------------------------------

    def refresh(self) -> None:
        console = self.services.console
        selected = self.selected_name()
        rows = console.list_secrets()
        users: dict[str, list[str]] = {}
        for conn in console.list_connections():
            if conn.secret_ref:
                users.setdefault(conn.secret_ref, []).append(conn.name)
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            values = (
                row.name,
                row.updated_at.strftime("%Y-%m-%d %H:%M") + " UTC",
                row.updated_by,
                ", ".join(users.get(row.name, [])) or "—",
            )
            for j, value in enumerate(values):
                self.table.setItem(i, j, QTableWidgetItem(value))
            if row.name == selected:
                self.table.selectRow(i)
        self._update_buttons()
        self.services.tasks.run(console.secrets_status, self._status_read, self._status_failed)

    def _status_read(self, status) -> None:
        if not shiboken6.isValid(self):
            return
        self.status.show_keyring(status, status.message, f"{status.message} {keyring_fix()}")

    def _status_failed(self, exc: BaseException) -> None:
        if shiboken6.isValid(self):
            self.status.show_exception(exc)

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return item.text() if item else None

    def names(self) -> list[str]:
        return [self.table.item(i, 0).text() for i in range(self.table.rowCount())]

    def _update_buttons(self) -> None:
        has = self.selected_name() is not None
        self.set_button.setEnabled(not self._busy)
        self.replace_button.setEnabled(has and not self._busy)
        self.delete_button.setEnabled(has and not self._busy)

    # Changing ---------------------------------------------------------------

    def set_new(self) -> None:
        self._open_dialog(None)

    def replace_selected(self) -> None:
        name = self.selected_name()
        if name is not None and not self._busy:
            self._open_dialog(name)

    def _open_dialog(self, name: str | None) -> None:
        self.dialog = SecretDialog(name, self)
        self.dialog.accepted.connect(self._dialog_accepted)
        self.dialog.open()

    def _dialog_accepted(self) -> None:
        dialog = self.dialog
        if dialog is None:
            return
        name, value = dialog.take()
        dialog.deleteLater()
        self.dialog = None
        console = self.services.console
        self._run(
            lambda: console.set_secret(name, value),
            self.tr("Stored {name} in the keyring.").format(name=name),
        )

    def delete_selected(self) -> None:
        name = self.selected_name()
        if name is None or self._busy:
            return
        users = self.table.item(self.table.currentRow(), 3)
        used = users.text() if users and users.text() != "—" else ""
        text = self.tr("Delete the secret {name} from the keyring?").format(name=name)
        if used:
            text += self.tr(
                " The connection {used} refers to it and will fail until it is set again."
            ).format(used=used)
        self.confirm = ask(
            self,
            "deleteSecretConfirm",
            self.tr("Delete secret"),
            text,
            self.tr("&Delete"),
            lambda: self._delete(name),
            QMessageBox.Icon.Warning,
        )

    def _delete(self, name: str) -> None:
        console = self.services.console
        self._run(
            lambda: console.delete_secret(name),
            self.tr("Deleted {name} from the keyring.").format(name=name),
        )

    def _run(self, work, done_text: str) -> None:
        self._busy = True
        self._update_buttons()
        self.message.show_info(self.tr("Talking to the keyring…"))

        def ok(_result) -> None:
            if shiboken6.isValid(self):
                self._busy = False
                self.message.show_ok(done_text)
                self.refresh()

        def failed(exc: BaseException) -> None:
            if shiboken6.isValid(self):
                self._busy = False
                self.message.show_exception(exc)
                self._update_buttons()

        self.services.tasks.run(work, ok, failed)
