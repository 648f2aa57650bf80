"""No status line outlives its fact: a refusal to enable gives way once the edits
complete the checklist, Enable with unsaved edits says to save first (and enables
nothing), and a refusal about one workflow goes when another is selected."""

from __future__ import annotations

from sophmate_desktop.ui.widgets.wf_lifecycle import complete_unsaved_text, unsaved_enable_text
from tests.support.factories import workflow_yaml
from tests.support.gui import click, retype

NO_OWNER = workflow_yaml("wf-one").replace("owner: ops-lead\n", "")


def test_the_refusal_goes_once_the_edits_complete_the_checklist(qtbot, page, console):
    console.import_workflow(NO_OWNER)
    page.refresh()
    page.show_workflow("wf-one")
    click(qtbot, page, "enableButton")
    assert "cannot enable wf-one: missing owner" in page.message.text()
    assert page.message.property("tone") == "error"

    editor = page.editor
    with qtbot.waitSignal(editor.validated, timeout=2000):
        retype(qtbot, editor.form.fields["owner"], "ana")
    assert editor.checklist.summary.text() == "Complete: it may be enabled."
    assert page.message.text() == complete_unsaved_text("wf-one")
    assert "cannot enable" not in page.message.text()

    click(qtbot, page, "enableButton")  # still unsaved: Enable says so, changes nothing
    assert page.message.text() == unsaved_enable_text("wf-one")
    assert console.get_workflow("wf-one").enabled is False

    with qtbot.waitSignal(editor.validated, timeout=2000):
        editor.save()
    qtbot.waitUntil(lambda: not editor.dirty, timeout=5000)
    click(qtbot, page, "enableButton")
    qtbot.waitUntil(lambda: console.get_workflow("wf-one").enabled, timeout=5000)
    assert page.message.text() == "wf-one is enabled: its trigger starts runs."


def test_a_refusal_about_one_workflow_goes_with_its_selection(qtbot, page, console):
    console.import_workflow(NO_OWNER)
    console.import_workflow(workflow_yaml("wf-two"))
    page.refresh()
    page.show_workflow("wf-one")
    click(qtbot, page, "enableButton")
    assert "cannot enable wf-one" in page.message.text()
    page.show_workflow("wf-two")
    assert page.message.isHidden() and page.message.text() == ""
