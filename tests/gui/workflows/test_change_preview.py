"""Preview change in the workflow editor: the edited, unsaved definition replayed on
the last inputs in the background, and the dialog showing what changes."""

from __future__ import annotations

from sophmate_desktop.store.models import AuditEvent, Write
from sophmate_desktop.ui.widgets.wf_document import new_workflow_document
from sophmate_desktop.ui.widgets.wf_preview import ChangePreviewDialog
from tests.support.change_preview import inputs_with_runs, preview_yaml
from tests.support.gui import click

YAML_TAB = 1


def test_preview_change_shows_the_changed_writes_of_an_edit(
    qtbot, page, console, db, tmp_path, find_dialog
):
    console.import_workflow(preview_yaml(tmp_path))
    paths = inputs_with_runs(db, tmp_path, "wf-prev", 2)
    paths[0].unlink()
    page.refresh()
    page.show_workflow("wf-prev")
    editor = page.editor
    editor.tabs.setCurrentIndex(YAML_TAB)
    code = editor.yaml.editor
    with qtbot.waitSignal(editor.validated, timeout=2000):
        code.setPlainText(code.toPlainText().replace("Hello", "Goodbye"))
    assert editor.dirty

    click(qtbot, page, "previewChangeButton")
    dialog = find_dialog(ChangePreviewDialog)

    assert [row[1:] for row in dialog.rows()] == [
        (str(paths[1]), "0 added, 0 removed, 1 changed"),
        (str(paths[0]), "unavailable: missing"),
    ]
    shown = dialog.diff.toPlainText()
    assert "-Hello line 1" in shown and "+Goodbye line 1" in shown
    assert "Nothing was written" in dialog.summary.text()
    qtbot.waitUntil(lambda: "would change" in editor.status_text(), timeout=3000)
    assert editor.dirty and console.get_workflow("wf-prev").revision == 1
    assert list((tmp_path / "staging").iterdir()) == [] and Write.select().count() == 0
    assert AuditEvent.select().where(AuditEvent.action == "workflow.previewed").count() == 1
    dialog.close()


def test_a_new_workflow_has_nothing_to_preview(qtbot, page, console):
    page.editor.start_new(new_workflow_document(console.actor))
    assert not page.editor.preview_action.isEnabled()
