"""The workflow editor: errors at the field, the YAML tab's line numbers, the
production checklist, form/YAML sync, and saving a new revision."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.support.factories import workflow_yaml
from tests.support.gui import click, retype
from tests.support.paths import EXAMPLES

YAML_TAB = 1


def open_in_editor(page, console, text: str, name: str):
    console.import_workflow(text)
    page.refresh()
    page.show_workflow(name)
    assert page.editor.name == name
    return page.editor


def test_clearing_the_owner_marks_the_owner_field_and_names_it(qtbot, page, console):
    editor = open_in_editor(page, console, workflow_yaml("wf-one"), "wf-one")
    owner = editor.form.fields["owner"]
    assert owner.property("invalid") in (None, False)

    with qtbot.waitSignal(editor.validated, timeout=2000):
        retype(qtbot, owner, "")

    assert owner.property("invalid") is True
    assert "border" in owner.styleSheet()
    assert "owner" in editor.form.error_text("owner")
    assert "production checklist" in editor.form.error_text("owner")
    assert editor.checklist.state()["owner"] is False
    assert "✗  owner" in editor.checklist.texts()

    with qtbot.waitSignal(editor.validated, timeout=2000):
        qtbot.keyClicks(owner, "ops-lead")
    assert owner.property("invalid") is False
    assert editor.form.error_text("owner") == ""
    assert editor.checklist.state()["owner"] is True


def test_an_invalid_retry_limit_is_shown_at_the_retry_limit_field(qtbot, page, console):
    editor = open_in_editor(page, console, workflow_yaml("wf-one"), "wf-one")
    limit = editor.form.fields["retry.limit"]

    with qtbot.waitSignal(editor.validated, timeout=2000) as blocker:
        retype(qtbot, limit, "lots")
    errors = blocker.args[0]
    assert [e.path for e in errors] == ["retry.limit"]
    assert limit.property("invalid") is True
    assert "retry.limit: expected a whole number" in editor.form.error_text("retry.limit")
    assert "retry.limit" in editor.status_text()
    # Other fields stay unmarked.
    assert editor.form.marked_fields() == {"retry.limit"}

    with qtbot.waitSignal(editor.validated, timeout=2000):
        retype(qtbot, limit, "99")
    assert "must be between 0 and 20, got 99" in editor.form.error_text("retry.limit")

    # Saving is refused in place while the error stands; nothing is stored.
    click(qtbot, page.editor, "saveButton")
    assert "Not saved" in editor.status_text()
    assert console.get_workflow("wf-one").revision == 1


def test_a_yaml_syntax_error_shows_its_line(qtbot, page, console):
    editor = open_in_editor(page, console, workflow_yaml("wf-one"), "wf-one")
    editor.tabs.setCurrentIndex(YAML_TAB)
    code = editor.yaml.editor
    text = code.toPlainText().replace("owner: ops-lead", "owner: [ops-lead")
    line = text.splitlines().index("owner: [ops-lead") + 1

    with qtbot.waitSignal(editor.validated, timeout=2000):
        code.selectAll()
        qtbot.keyClick(code, Qt.Key.Key_Delete)
        code.insertPlainText(text)

    messages = editor.yaml.error_messages()
    assert messages and all("YAML syntax error" in m for m in messages)
    lines = editor.yaml.highlighted_lines()
    assert lines and min(lines) >= line
    assert any(f"line {n}" in messages[0] for n in lines)
    # The form cannot show text that does not parse: switching is refused, with why.
    editor.tabs.setCurrentIndex(0)
    assert editor.tabs.currentIndex() == YAML_TAB
    assert "Fix the YAML first" in editor.status_text()


def test_a_yaml_field_error_highlights_the_fields_line(qtbot, page, console):
    editor = open_in_editor(page, console, workflow_yaml("wf-one"), "wf-one")
    editor.tabs.setCurrentIndex(YAML_TAB)
    code = editor.yaml.editor
    lines = code.toPlainText().splitlines()
    number = next(i for i, t in enumerate(lines, start=1) if "settle_ms" in t)

    with qtbot.waitSignal(editor.validated, timeout=2000):
        code.setPlainText(code.toPlainText().replace("settle_ms: 500", "settle_ms: soon"))

    assert editor.yaml.highlighted_lines() == {number}
    assert editor.yaml.error_messages() == [
        f"line {number}: trigger.settle_ms: expected a whole number, got text ('soon')"
    ]


def test_the_checklist_shows_what_invoice_intake_lacks(qtbot, page, console):
    text = (EXAMPLES / "invoice-intake.yaml").read_text(encoding="utf-8")
    editor = open_in_editor(page, console, text, "invoice-intake")

    state = editor.checklist.state()
    assert [item for item, present in state.items() if not present] == [
        "notification path",
        "rollback path",
    ]
    assert "✗  notification path" in editor.checklist.texts()
    assert "✓  owner" in editor.checklist.texts()
    assert "2 items missing" in editor.checklist.summary.text()
    # The rollback field says so where it is typed.
    assert "rollback" in editor.form.error_text("rollback")

    # Ticking the notification section and filling it in completes that item.
    editor.form.groups["notify"].setChecked(True)
    with qtbot.waitSignal(editor.validated, timeout=2000):
        qtbot.keyClicks(editor.form.fields["notify.on_failure"], "tray")
    assert editor.checklist.state()["notification path"] is True
    assert editor.checklist.state()["rollback path"] is False


def test_form_and_yaml_stay_in_sync(qtbot, page, console):
    editor = open_in_editor(page, console, workflow_yaml("wf-one"), "wf-one")
    with qtbot.waitSignal(editor.validated, timeout=2000):
        retype(qtbot, editor.form.fields["trigger.settle_ms"], "750")
    editor.tabs.setCurrentIndex(YAML_TAB)
    assert "settle_ms: 750" in editor.yaml.text()

    code = editor.yaml.editor
    code.setPlainText(code.toPlainText().replace("limit: 1", "limit: 4"))
    editor.tabs.setCurrentIndex(0)
    assert editor.form.fields["retry.limit"].text() == "4"
    assert editor.form.fields["trigger.settle_ms"].text() == "750"


def test_save_with_ctrl_s_creates_a_new_revision(qtbot, page, console):
    editor = open_in_editor(page, console, workflow_yaml("wf-one"), "wf-one")
    description = editor.form.fields["description"]
    description.setFocus()
    qtbot.keyClick(description, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(description, " Now with a longer description.")
    assert editor.dirty and "unsaved changes" in editor.title.text()

    qtbot.keyClick(description, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: console.get_workflow("wf-one").revision == 2, timeout=5000)
    qtbot.waitUntil(lambda: not editor.dirty, timeout=2000)

    stored = console.get_definition("wf-one")
    assert stored.description.endswith("Now with a longer description.")
    updated = console.list_audit(action="workflow.updated", workflow="wf-one")
    assert len(updated) == 1 and updated[0].details["revision"] == 2
    assert "revision 2" in editor.status_text()
    assert "revision 2" in editor.title.text()
    assert page.selected().revision == 2


def test_new_workflow_from_ctrl_n_is_saved_as_revision_one(qtbot, page, console):
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    editor = page.editor
    assert editor.name is None and "New workflow" in editor.title.text()
    assert editor.checklist.state()["rollback path"] is False

    retype(qtbot, editor.form.fields["name"], "fresh-flow")
    rollback = editor.form.fields["rollback"]
    rollback.setFocus()
    qtbot.keyClicks(rollback, "Delete the written files.")
    click(qtbot, editor, "saveButton")

    qtbot.waitUntil(lambda: editor.name == "fresh-flow", timeout=5000)
    row = console.get_workflow("fresh-flow")
    assert row.revision == 1 and row.owner == "ana" and row.missing_checklist == ()
    assert page.selected().name == "fresh-flow"
