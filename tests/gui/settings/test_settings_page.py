"""Settings: database and identity shown, four eyes, connections and what a change does."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from sophmate_desktop.resources import example_workflows
from sophmate_desktop.store.database import MIGRATIONS_DIR


def _example(name: str) -> Path:
    return next(p for p in example_workflows() if p.stem == name)


def test_database_and_identity_are_shown(page, sqlite_url):
    db = page.database
    path = sqlite_url.removeprefix("sqlite:///")
    assert db.url_label.text() == path
    assert "SQLite" in db.kind_label.text()
    newest = sorted(MIGRATIONS_DIR.glob("0*.py"))[-1].stem
    assert db.schema_label.text() == newest  # the last migration applied
    assert db.source_label.text() == "the --db option"
    assert not db.forget_button.isVisibleTo(page)
    assert not db.remove_button.isVisibleTo(page)
    assert page.identity.actor_label.text() == "You act as ana."
    assert "--actor NAME" in page.identity.how_label.text()


def test_four_eyes_is_stored_and_audited(qtbot, page, services):
    console = services.console
    section = page.four_eyes
    assert section.buttons["auto"].isChecked()
    assert "off" in section.effective.text()  # auto on a single desktop

    on = section.buttons["on"]
    qtbot.mouseClick(on, Qt.MouseButton.LeftButton, pos=QPoint(8, on.height() // 2))
    assert console.setting("four_eyes") is True
    assert console.four_eyes_enabled
    assert "is on" in section.effective.text()
    event = console.list_audit(action="setting.changed", limit=1)[0]
    assert (event.actor, event.subject) == ("ana", "four_eyes")
    assert event.details == {"from": "auto", "to": True}

    section.buttons["off"].setFocus()
    qtbot.keyClick(section.buttons["off"], Qt.Key.Key_Space)
    assert console.setting("four_eyes") is False
    assert console.four_eyes_mode() == "off"
    assert len(console.list_audit(action="setting.changed")) == 2
    # Choosing the mode already stored records nothing.
    qtbot.keyClick(section.buttons["off"], Qt.Key.Key_Space)
    assert len(console.list_audit(action="setting.changed")) == 2


def test_changing_a_connection_reports_the_paused_workflows(qtbot, page, services):
    console = services.console
    console.import_workflow(_example("invoice-intake"))  # uses supplier-smtp
    console.save_connection("supplier-smtp", "smtp", {"host": "mail.example.test", "port": 25})
    page.refresh()
    section = page.connections
    assert section.table.item(0, 0).text() == "supplier-smtp"
    assert "invoice-intake" in section.table.item(0, 5).text()

    section.table.setFocus()
    section.table.selectRow(0)
    qtbot.keyClick(section.table, Qt.Key.Key_Return)
    dialog = section.dialog
    assert dialog is not None and dialog.isVisible()
    assert "invoice-intake" in dialog.impact.text()
    assert "pauses" in dialog.impact.text()

    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    dialog.settings_edit.setPlainText('{"host": "mail.example.test", "port": ')
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert dialog.problem.level == "error" and "settings: not valid JSON" in dialog.problem.text()

    dialog.settings_edit.setPlainText('{"host": "mail.example.test", "password": "hunter2"}')
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert "keyring" in dialog.problem.text()  # secrets never go into settings

    dialog.settings_edit.setPlainText('{"host": "smtp.new-provider.test", "port": 587}')
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    message = section.message.text()
    assert "Saved connection supplier-smtp" in message
    assert "Review now due for: invoice-intake" in message
    assert "Paused until someone resumes them: invoice-intake" in message
    assert console.get_workflow("invoice-intake").paused
    assert console.list_connections()[0].settings == {"host": "smtp.new-provider.test", "port": 587}
    assert "(paused)" in section.table.item(0, 5).text()


def test_a_new_connection_from_the_keyboard(qtbot, page, services):
    section = page.connections
    qtbot.mouseClick(section.new_button, Qt.MouseButton.LeftButton)
    dialog = section.dialog
    qtbot.keyClicks(dialog.name_edit, "status-api")
    dialog.kind_combo.setCurrentText("http")
    qtbot.keyClicks(dialog.settings_edit, '{"base_url": "https://status.example.test"}')
    dialog.secret_combo.setCurrentText("status_api_token")
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)  # the default button saves
    assert not dialog.isVisible()
    assert section.message.text() == "Created connection status-api."
    row = services.console.list_connections()[0]
    assert (row.name, row.kind, row.secret_ref) == ("status-api", "http", "status_api_token")
    assert row.staging_settings is None

    # A second "new" connection of the same name does not overwrite the first.
    qtbot.mouseClick(section.new_button, Qt.MouseButton.LeftButton)
    dialog = section.dialog
    qtbot.keyClicks(dialog.name_edit, "status-api")
    qtbot.keyClicks(dialog.settings_edit, "{}")
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)
    assert dialog.isVisible() and "exists already" in dialog.problem.text()
    dialog.reject()
    assert services.console.list_connections()[0].settings == {
        "base_url": "https://status.example.test"
    }


def test_an_unused_empty_local_database_can_be_removed(qtbot, services, user_dirs):
    from sophmate_desktop.ui.pages.settings import SettingsPage

    local = services.console.database_info().local_path
    local.parent.mkdir(parents=True)
    with sqlite3.connect(local) as conn:  # what a first start left: tables, no event
        conn.execute("CREATE TABLE audit_event (id INTEGER PRIMARY KEY)")
    page = SettingsPage(services)
    qtbot.addWidget(page)
    page.show()
    page.refresh()
    db = page.database
    assert db.remove_button.isVisible()
    qtbot.mouseClick(db.remove_button, Qt.MouseButton.LeftButton)
    box = db.confirm
    assert box is not None and str(local) in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    assert not local.exists()
    assert db.message.text() == f"Removed {local}."
    assert not db.remove_button.isVisible()


def test_a_local_database_with_history_is_never_offered_for_removal(services, user_dirs):
    local = services.console.database_info().local_path
    local.parent.mkdir(parents=True)
    with sqlite3.connect(local) as conn:
        conn.execute("CREATE TABLE audit_event (id INTEGER PRIMARY KEY)")
        conn.execute("INSERT INTO audit_event (id) VALUES (1)")
    assert not services.console.database_info().unused_local


def test_the_email_connection_for_notices_is_chosen_and_audited(qtbot, page, services):
    console = services.console
    console.save_connection("ops-mail", "smtp", {"host": "127.0.0.1", "port": 2525})
    console.save_connection("api", "http", {"base_url": "http://127.0.0.1:1"})
    page.refresh()
    box = page.notices.connection_box
    assert [box.itemText(i) for i in range(box.count())] == [
        "(none: email: targets fail)",
        "ops-mail",
    ]
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Down)
    qtbot.mouseClick(page.notices.save_button, Qt.MouseButton.LeftButton)
    assert console.notify_email_connection() == "ops-mail"
    assert page.notices.message.text() == "E-mail notices go through ops-mail."
    event = console.list_audit(action="setting.changed", limit=1)[0]
    assert (event.subject, event.details) == (
        "notify_email_connection",
        {"from": None, "to": "ops-mail"},
    )
    page.refresh()
    assert box.currentText() == "ops-mail"
