"""Settings → Connections: the providers actions use (SMTP, HTTP, command
environment), with production and staging settings and a secret by name.

Changing a connection pauses the workflows that use it (when their pause rule says
so) and makes their provider-change review due: the dialog says so before saving,
and the section reports what the console did afterwards.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.store.rows import ConnectionRow
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.settings_common import (
    KeyActions,
    MessageLabel,
    button_row,
    hint,
    section_table,
)

KINDS = ("smtp", "http", "command", "llm")
EXAMPLES = {
    "smtp": {
        "host": "smtp.example.com",
        "port": 587,
        "starttls": True,
        "from": "ops@example.com",
        "username": "ops",
    },
    "http": {"base_url": "https://api.example.com/v1", "headers": {"Accept": "application/json"}},
    "command": {"env": {"LANG": "C.UTF-8"}},
    # An AI provider: OpenAI-compatible (OpenAI, Azure OpenAI, Ollama, llama.cpp, vLLM,
    # LM Studio) or Anthropic; prices per million input/output tokens.
    "llm": {
        "provider": "openai",
        "base_url": "http://127.0.0.1:11434/v1",
        "model": "llama3.2",
        "price_in": 0.15,
        "price_out": 0.6,
        "timeout_s": 60,
    },
}
KIND_HINTS = {  # marked for lupdate here, translated where shown
    "llm": QT_TRANSLATE_NOOP(
        "sophmate",
        "Prompt steps ask this provider at plan time; the API key is the secret named "
        "below. A new provider, base URL, model or key is a provider change (workflows "
        "pause per their rule); a new price or timeout is not. Empty staging settings: "
        "staging runs plan with placeholder answers.",
    ),
}


def _json_text(value: dict[str, Any] | None) -> str:
    return json.dumps(value, indent=2, sort_keys=True) if value else ""


def _parse(text: str, field: str, *, required: bool) -> dict[str, Any] | None:
    if not text.strip():
        if required:
            raise ValueError(
                translate("sophmate", "{field}: enter the settings as a JSON object, e.g. {{}}")
                .format(field=field)
            )  # fmt: skip
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValueError(
            translate("sophmate", "{field}: not valid JSON ({error})").format(
                field=field, error=exc
            )
        ) from None
    if not isinstance(value, dict):
        raise ValueError(
            translate("sophmate", "{field}: must be a JSON object {{...}}").format(field=field)
        )
    return value


class ConnectionDialog(QDialog):
    """Create (row None) or change a connection."""

    def __init__(
        self, services: UiServices, row: ConnectionRow | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("connectionDialog")
        self.setWindowTitle(
            self.tr("Connection {name}").format(name=row.name) if row else self.tr("New connection")
        )
        self.setMinimumSize(560, 560)
        self.services = services
        self.saved = None

        self._build_fields(row)

        self._build_impact(row)

        form = QFormLayout()
        form.addRow(self.tr("&Name:"), self.name_edit)
        form.addRow(self.tr("&Kind:"), self.kind_combo)
        form.addRow(self.tr("Settings (&JSON):"), self.settings_edit)
        form.addRow(self.tr("Sta&ging settings (JSON):"), self.staging_edit)
        form.addRow(self.tr("Se&cret (by name):"), self.secret_combo)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.kind_hint)
        layout.addWidget(
            hint(
                self.tr(
                    "Passwords and tokens never go into the settings: set them under Secrets "
                    "and name the secret here."
                )
            )
        )
        layout.addWidget(self.impact)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        (self.settings_edit if row else self.name_edit).setFocus()

    def _build_fields(self, row: ConnectionRow | None) -> None:
        self.name_edit = QLineEdit(row.name if row else "")
        self.name_edit.setObjectName("connectionNameEdit")
        self.name_edit.setReadOnly(row is not None)
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("connectionKindCombo")
        self.kind_combo.addItems(KINDS)
        if row is not None:
            self.kind_combo.setCurrentText(row.kind)
        self.settings_edit = QPlainTextEdit(_json_text(row.settings) if row else "")
        self.settings_edit.setObjectName("connectionSettingsEdit")
        self.staging_edit = QPlainTextEdit(_json_text(row.staging_settings) if row else "")
        self.staging_edit.setObjectName("connectionStagingEdit")
        self.staging_edit.setPlaceholderText(
            self.tr("Empty: no staging provider — in staging, e-mail and HTTP writes stay planned.")
        )
        for edit in (self.settings_edit, self.staging_edit):
            edit.setTabChangesFocus(True)
        self.secret_combo = QComboBox()
        self.secret_combo.setObjectName("connectionSecretCombo")
        self.secret_combo.setEditable(True)
        self.secret_combo.addItem("")
        self.secret_combo.addItems([s.name for s in self.services.console.list_secrets()])
        self.secret_combo.setCurrentText((row.secret_ref or "") if row else "")
        self.kind_hint = hint("")
        self.kind_hint.setObjectName("connectionKindHint")
        self.kind_combo.currentTextChanged.connect(self._kind_changed)
        self._kind_changed(self.kind_combo.currentText())

    def _build_impact(self, row: ConnectionRow | None) -> None:
        self.impact = QLabel()
        self.impact.setObjectName("connectionImpact")
        self.impact.setWordWrap(True)
        # A new connection's name may already be used by workflows: say so as it is typed.
        self.name_edit.textChanged.connect(self._show_impact)
        self._show_impact(self.name_edit.text())
        self.problem = MessageLabel("connectionProblem")

    def _show_impact(self, name: str) -> None:
        name = name.strip()
        users = self.services.console.connection_users(name) if name else []
        if users:
            names = ", ".join(
                u.workflow + (self.tr(" (pauses on a change)") if u.pauses_on_change else "")
                for u in users
            )
            self.impact.setText(
                self.tr(
                    "Used by {names}. Saving a change makes their provider-change review due, "
                    "pauses those whose pause rule says so, and tightens relaxed approval gates."
                ).format(names=names)
            )
        elif name:
            self.impact.setText(self.tr("No workflow uses {name} yet.").format(name=name))
        else:
            self.impact.setText(self.tr("Workflows use a connection by its name."))

    def _kind_changed(self, kind: str) -> None:
        example = json.dumps(EXAMPLES.get(kind, {}))
        self.settings_edit.setPlaceholderText(self.tr("For example: {0}").format(example))
        self.kind_hint.setText(translate("sophmate", KIND_HINTS.get(kind, "")))
        self.kind_hint.setVisible(kind in KIND_HINTS)

    def save(self) -> None:
        try:
            settings = _parse(self.settings_edit.toPlainText(), self.tr("settings"), required=True)
            staging = _parse(
                self.staging_edit.toPlainText(), self.tr("staging settings"), required=False
            )
        except ValueError as exc:
            self.problem.show_error(str(exc))
            return
        name = self.name_edit.text().strip()
        if not self.name_edit.isReadOnly() and any(
            c.name == name for c in self.services.console.list_connections()
        ):
            self.problem.show_error(
                self.tr("name: a connection {name!r} exists already; edit that one").format(
                    name=name
                )
            )
            return
        try:
            self.saved = self.services.console.save_connection_reporting(
                self.name_edit.text(),
                self.kind_combo.currentText(),
                settings or {},
                staging,
                self.secret_combo.currentText().strip() or None,
            )
        except Exception as exc:  # BadInput names the field; shown in place
            self.problem.show_exception(exc)
            return
        self.accept()


class ConnectionsSection(QGroupBox):
    COLUMNS = (
        QT_TRANSLATE_NOOP("sophmate", "Name"),
        QT_TRANSLATE_NOOP("sophmate", "Kind"),
        QT_TRANSLATE_NOOP("sophmate", "Settings"),
        QT_TRANSLATE_NOOP("sophmate", "Staging"),
        QT_TRANSLATE_NOOP("sophmate", "Secret"),
        QT_TRANSLATE_NOOP("sophmate", "Used by"),
        QT_TRANSLATE_NOOP("sophmate", "Changed"),
    )

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Connections"), parent)
        self.setObjectName("connectionsSection")
        self.services = services
        self.dialog: ConnectionDialog | None = None
        self._rows: list[ConnectionRow] = []

        self.table = section_table("connectionsTable", self.COLUMNS)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(self.edit_selected)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        KeyActions(
            self.table,
            {Qt.Key.Key_Return: self.edit_selected, Qt.Key.Key_Enter: self.edit_selected},
        )

        self.new_button = QPushButton(self.tr("Ne&w connection…"))
        self.new_button.setObjectName("newConnectionButton")
        self.new_button.clicked.connect(self.new_connection)
        self.edit_button = QPushButton(self.tr("&Edit…"))
        self.edit_button.setObjectName("editConnectionButton")
        self.edit_button.clicked.connect(self.edit_selected)
        self.message = MessageLabel("connectionsMessage")
        layout = QVBoxLayout(self)
        layout.addWidget(
            hint(
                self.tr(
                    "The SMTP servers, HTTP endpoints and command environments that actions "
                    "use. Staging settings point staging runs at a test mailbox or a staging URL."
                )
            )
        )
        layout.addWidget(self.table)
        layout.addLayout(button_row(self.new_button, self.edit_button))
        layout.addWidget(self.message)
        self._update_buttons()

    def refresh(self) -> None:
        console = self.services.console
        selected = self.selected_row()
        self._rows = console.list_connections()
        self.table.setRowCount(len(self._rows))
        for i, row in enumerate(self._rows):
            users = console.connection_users(row.name)
            used = ", ".join(u.workflow + (" (paused)" if u.paused else "") for u in users)
            values = (
                row.name,
                row.kind,
                json.dumps(row.settings, sort_keys=True),
                "yes" if row.staging_settings else "none",
                row.secret_ref or "—",
                used or "—",
                f"{row.changed_at:%Y-%m-%d %H:%M} by {row.changed_by}",
            )
            for j, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                self.table.setItem(i, j, item)
            if selected is not None and row.name == selected.name:
                self.table.selectRow(i)
        self._update_buttons()

    def selected_row(self) -> ConnectionRow | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self._rows):
            return None
        return self._rows[rows[0].row()]

    def _update_buttons(self) -> None:
        self.edit_button.setEnabled(self.selected_row() is not None)

    def new_connection(self) -> None:
        self._open(None)

    def edit_selected(self) -> None:
        row = self.selected_row()
        if row is not None:
            self._open(row)

    def _open(self, row: ConnectionRow | None) -> None:
        self.dialog = ConnectionDialog(self.services, row, self)
        self.dialog.accepted.connect(self._saved)
        self.dialog.open()

    def _saved(self) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is None or dialog.saved is None:
            return
        result = dialog.saved
        dialog.deleteLater()
        name = result.row.name
        if result.created:
            text = self.tr("Created connection {name}.").format(name=name)
        elif not result.changed:
            text = self.tr("Connection {name} is unchanged: nothing saved.").format(name=name)
        else:
            text = self.tr("Saved connection {name}.").format(name=name)
            if result.reviews_due:
                text += self.tr(" Review now due for: {names}.").format(
                    names=", ".join(result.reviews_due)
                )
            if result.paused:
                text += self.tr(
                    " Paused until someone resumes them: {names} (see Workflows)."
                ).format(names=", ".join(result.paused))
        self.message.show_ok(text)
        self.refresh()
