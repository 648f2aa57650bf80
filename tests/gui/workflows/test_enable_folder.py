"""Enable checks the world: a watched folder that does not exist is named, and the
page offers to create it; nothing is enabled until the folder is there."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from sophmate_desktop.ui.widgets.wf_dialogs import ConfirmDialog
from tests.support.factories import WATCHED, workflow_yaml
from tests.support.gui import click


def test_enable_offers_to_create_a_missing_watched_folder(
    qtbot, page, console, tmp_path, find_dialog
):
    folder = tmp_path / "incoming" / "invoices"
    console.import_workflow(workflow_yaml("wf-one").replace(str(WATCHED), str(folder)))
    page.refresh()
    page.show_workflow("wf-one")

    click(qtbot, page, "enableButton")
    dialog = find_dialog(ConfirmDialog)
    assert dialog.objectName() == "createFolderDialog"
    texts = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert f"wf-one watches {folder}, which does not exist" in texts
    assert f"its watched folder {folder} does not exist" in page.message.text()
    assert console.get_workflow("wf-one").enabled is False

    dialog.reject()  # Cancel: still nothing enabled, no folder made
    assert not folder.exists() and console.get_workflow("wf-one").enabled is False

    click(qtbot, page, "enableButton")
    dialog = find_dialog(ConfirmDialog)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: console.get_workflow("wf-one").enabled, timeout=5000)
    assert folder.is_dir()
    assert page.message.text() == (
        "wf-one is enabled: its trigger starts runs. Its watched folder was created."
    )
    event = console.list_audit(limit=1)[0]
    assert event.action == "workflow.enabled" and event.details["created_folder"] == str(folder)
