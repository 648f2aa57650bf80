"""The window's pause while another process holds the database's write lock: the
dialog says it waits, with a countdown and Cancel; the pause commits once the lock
goes; Cancel leaves the category running and says the pause was NOT recorded."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from sophmate_desktop.store.models import AuditEvent, Category
from tests.support.db_faults import write_lock_held
from tests.support.pages import open_dialog, submit


def _db_path(services) -> Path:
    return Path(services.console.db.database)


def _counted(dialog, seconds: int) -> bool:
    text = dialog.error_label.text()
    if not (dialog.error_label.isVisible() and text.startswith("Waiting for the database")):
        return False
    return int(text.split("… ")[1].split(" s")[0]) >= seconds


def _paused(name: str) -> bool:
    return Category.get(Category.name == name).paused


def test_a_pause_waits_for_the_lock_with_a_countdown_and_commits_when_it_goes(
    qtbot, panel, services
) -> None:
    with write_lock_held(_db_path(services), 3) as holder:
        dialog = open_dialog(qtbot, panel, "category", "finance")
        submit(qtbot, dialog, "incident")
        qtbot.waitUntil(lambda: _counted(dialog, 1), timeout=10_000)  # it counts
        assert "Cancel gives up (nothing recorded)" in dialog.error_label.text()
        cancel = dialog.buttons.button(dialog.buttons.StandardButton.Cancel)
        assert cancel.isVisible() and cancel.isEnabled()
        assert not dialog.ok_button.isEnabled()  # one wait at a time
        assert not _paused("finance")
        qtbot.waitUntil(lambda: holder.poll() is not None, timeout=15_000)
    qtbot.waitUntil(lambda: panel.dialog is None, timeout=10_000)  # committed, closed
    assert _paused("finance")
    qtbot.waitUntil(lambda: panel.switch_button("category", "finance").isChecked())
    assert "NOT recorded" not in panel.message.text()
    event = AuditEvent.get(AuditEvent.action == "category.paused")
    assert (event.actor, event.subject, event.reason) == ("ana", "finance", "incident")


def test_cancel_while_waiting_records_nothing_and_says_so(qtbot, panel, services) -> None:
    with write_lock_held(_db_path(services), 60):
        dialog = open_dialog(qtbot, panel, "category", "finance")
        submit(qtbot, dialog, "incident")
        qtbot.waitUntil(lambda: _counted(dialog, 1), timeout=10_000)
        cancel = dialog.buttons.button(dialog.buttons.StandardButton.Cancel)
        qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "NOT recorded" in panel.message.text(), timeout=10_000)
        assert panel.message.isVisible()
        assert "cancelled" in panel.message.text() and "busy" in panel.message.text()
        assert panel.dialog is None
    assert not _paused("finance")
    assert not panel.switch_button("category", "finance").isChecked()
    assert AuditEvent.select().where(AuditEvent.action.endswith(".paused")).count() == 0
