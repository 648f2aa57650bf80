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


def test_the_last_folder_is_remembered_across_starts(qtbot, services, find_dialog, tmp_path):
    from dataclasses import replace

    from sophmate_desktop.ui.pages.workflows import WorkflowsPage
    from sophmate_desktop.ui.preferences import Preferences
    from tests.support.gui import on_screen

    stored = tmp_path / "config" / "window.ini"
    folder = tmp_path / "workflows"
    folder.mkdir()
    source = folder / "wf-one.yaml"
    source.write_text(workflow_yaml("wf-one"))

    first = on_screen(qtbot, WorkflowsPage(replace(services, preferences=Preferences(stored))),
                      1100, 800)
    first.import_workflow()
    dialog = find_dialog(QFileDialog)
    dialog.selectFile(str(source))
    dialog.accept()
    qtbot.waitUntil(lambda: "Imported wf-one" in first.message.text(), timeout=5000)
    first.close()
    assert stored.is_file() and str(folder) in stored.read_text()

    # The next start: new services, the same file on this desktop.
    later = on_screen(qtbot, WorkflowsPage(replace(services, preferences=Preferences(stored))),
                      1100, 800)
    later.import_workflow()
    dialog = find_dialog(QFileDialog)
    assert Path(dialog.directory().absolutePath()) == folder
    dialog.reject()


def test_a_remembered_folder_that_is_gone_opens_the_home_folder(tmp_path):
    from sophmate_desktop.ui.preferences import Preferences

    stored = tmp_path / "window.ini"
    gone = tmp_path / "gone"
    gone.mkdir()
    Preferences(stored).remember_file("workflow", str(gone / "a.yaml"))
    gone.rmdir()
    assert Preferences(stored).last_folder("workflow") == str(Path.home())
