"""Settings → Secrets: set, replace and delete by name; values only in the keyring."""

from __future__ import annotations

import keyring
import pytest
import shiboken6
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLineEdit, QMessageBox

from sophmate_desktop.secrets import INSECURE_ENV, SERVICE
from tests.support.inmemory_keyring import PlaintextMemoryKeyring

FIRST = "s3cr3t-first-VALUE-41"
SECOND = "s3cr3t-second-VALUE-97"


def _fill_and_store(qtbot, dialog, value: str, name: str | None = None) -> None:
    if name is not None:
        qtbot.keyClicks(dialog.name_edit, name)
    qtbot.keyClicks(dialog.value_edit, value)
    qtbot.keyClicks(dialog.repeat_edit, value)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok.isEnabled()
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)


def _table_texts(table) -> list[str]:
    return [
        table.item(r, c).text() for r in range(table.rowCount()) for c in range(table.columnCount())
    ]


def test_set_replace_and_delete_a_secret_keep_the_value_in_the_keyring_only(
    qtbot, page, services, memory_keyring, db_bytes
):
    section = page.secrets
    console = services.console

    # Set: a new name and its value, typed twice into password fields.
    qtbot.mouseClick(section.set_button, Qt.MouseButton.LeftButton)
    dialog = section.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.value_edit.echoMode() == QLineEdit.EchoMode.Password
    assert dialog.repeat_edit.echoMode() == QLineEdit.EchoMode.Password
    _fill_and_store(qtbot, dialog, FIRST, name="smtp_password")
    qtbot.waitUntil(lambda: section.message.level == "ok", timeout=5000)
    assert memory_keyring.get_password(SERVICE, "smtp_password") == FIRST
    assert section.names() == ["smtp_password"]
    assert not shiboken6.isValid(dialog)  # the dialog that held the value is gone

    # Replace, from the keyboard: select the row, Enter opens the dialog for that name.
    section.table.setFocus()
    section.table.selectRow(0)
    qtbot.keyClick(section.table, Qt.Key.Key_Return)
    dialog = section.dialog
    assert dialog is not None and dialog.name_edit.isReadOnly()
    assert dialog.name_edit.text() == "smtp_password"
    assert dialog.value_edit.text() == ""  # never read back
    _fill_and_store(qtbot, dialog, SECOND)
    qtbot.waitUntil(lambda: memory_keyring.get_password(SERVICE, "smtp_password") == SECOND)
    qtbot.waitUntil(lambda: "Stored" in section.message.text())

    shown = " ".join(_table_texts(section.table)) + section.message.text()
    audit = console.list_audit(action="secret.*")
    assert [e.action for e in reversed(audit)] == ["secret.set", "secret.replaced"]
    stored = db_bytes()
    for value in (FIRST, SECOND):
        assert value not in shown
        assert value.encode() not in stored
        assert all(value not in repr(e) for e in audit)

    # Delete: select, Delete key, confirm in the message box.
    section.table.selectRow(0)
    qtbot.keyClick(section.table, Qt.Key.Key_Delete)
    box = section.confirm
    assert box is not None and box.isVisible()
    assert "smtp_password" in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: section.names() == [], timeout=5000)
    assert memory_keyring.get_password(SERVICE, "smtp_password") is None
    assert console.list_audit(limit=1)[0].action == "secret.deleted"


def test_the_dialog_refuses_two_different_values(qtbot, page):
    section = page.secrets
    qtbot.mouseClick(section.set_button, Qt.MouseButton.LeftButton)
    dialog = section.dialog
    qtbot.keyClicks(dialog.name_edit, "token")
    qtbot.keyClicks(dialog.value_edit, "abc")
    qtbot.keyClicks(dialog.repeat_edit, "abd")
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    assert dialog.problem.level == "error" and "differ" in dialog.problem.text()
    dialog.reject()


def test_a_keyring_that_cannot_keep_secrets_is_explained_in_place(qtbot, page, services):
    keyring.set_keyring(fail.Keyring())  # the memory_keyring fixture restores its own
    page.refresh()
    section = page.secrets
    qtbot.waitUntil(lambda: section.status.level == "error", timeout=5000)
    assert "GNOME Keyring" in section.status.text()
    assert "SOPHMATE_ALLOW_INSECURE_KEYRING" in section.status.text()

    qtbot.mouseClick(section.set_button, Qt.MouseButton.LeftButton)
    _fill_and_store(qtbot, section.dialog, "value-never-stored", name="api_token")
    qtbot.waitUntil(lambda: section.message.level == "error", timeout=5000)
    assert "No secure keyring" in section.message.text()
    assert "GNOME Keyring" in section.message.text()
    assert section.names() == []
    assert services.console.list_secrets() == []


@pytest.fixture
def insecure_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before the console's SecretStore is built: it reads the override once."""
    monkeypatch.setenv(INSECURE_ENV, "1")


def test_an_allowed_plaintext_keyring_shows_as_a_warning(insecure_allowed, qtbot, page):
    plaintext = PlaintextMemoryKeyring()
    keyring.set_keyring(plaintext)  # the memory_keyring fixture restores its own
    page.refresh()
    section = page.secrets
    qtbot.waitUntil(lambda: "PlaintextMemoryKeyring" in section.status.text(), timeout=5000)
    assert section.status.level == "warning"
    assert "NOT protected" in section.status.text()
