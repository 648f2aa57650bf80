"""File dialogs open on workflow files (*.yaml) in the folder of the last file chosen."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from tests.support.factories import workflow_yaml


def test_import_then_export_open_in_the_last_folder(qtbot, page, console, find_dialog, tmp_path):
    folder = tmp_path / "workflows"
    folder.mkdir()
    source = folder / "wf-one.yaml"
    source.write_text(workflow_yaml("wf-one"))

    page.import_workflow()
    dialog = find_dialog(QFileDialog)
    assert dialog.nameFilters()[0] == "Workflow files (*.yaml *.yml)"
    dialog.selectFile(str(source))
    dialog.accept()
    qtbot.waitUntil(lambda: "Imported wf-one" in page.message.text(), timeout=5000)

    page.export_workflow()
    dialog = find_dialog(QFileDialog)
    assert Path(dialog.directory().absolutePath()) == folder
    assert dialog.selectedFiles() == [str(folder / "wf-one.yaml")]
    dialog.reject()

    page.import_workflow()
    dialog = find_dialog(QFileDialog)
    assert Path(dialog.directory().absolutePath()) == folder
    dialog.reject()
