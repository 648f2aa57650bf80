"""The YAML tab keeps what the person wrote: after an edit in the form, comments and
block scalars survive and only the changed value is new."""

from __future__ import annotations

from sophmate_desktop.ui.widgets.wf_editor import FORM_TAB, YAML_TAB
from sophmate_desktop.ui.widgets.wf_roundtrip import merge_into_yaml
from tests.support.factories import workflow_yaml
from tests.support.gui import retype

WRITTEN = workflow_yaml("wf-one").replace(
    'content: "hello"',
    "# the receipt text, as finance wants it\n    content: |\n      Dear supplier,\n"
    "      we received your file.\n",
)


def test_merge_keeps_comments_and_block_scalars() -> None:
    from ruamel.yaml import YAML

    doc = YAML(typ="safe").load(WRITTEN)
    doc["owner"] = "ana"
    text = merge_into_yaml(WRITTEN, doc)
    assert text is not None
    assert "owner: ana" in text and "owner: ops-lead" not in text
    assert "# the receipt text, as finance wants it" in text
    assert "content: |\n      Dear supplier,\n      we received your file.\n" in text
    assert merge_into_yaml("- not\n- a mapping\n", doc) is None
    assert merge_into_yaml("key: [unclosed", doc) is None


def test_the_yaml_tab_keeps_what_was_typed_after_a_form_edit(qtbot, page, console):
    console.import_workflow(workflow_yaml("wf-one"))
    page.refresh()
    page.show_workflow("wf-one")
    editor = page.editor
    editor.tabs.setCurrentIndex(YAML_TAB)
    editor.yaml.editor.setPlainText(WRITTEN)
    editor.tabs.setCurrentIndex(FORM_TAB)
    with qtbot.waitSignal(editor.validated, timeout=2000):
        retype(qtbot, editor.form.fields["owner"], "ana")
    editor.tabs.setCurrentIndex(YAML_TAB)
    text = editor.yaml.text()
    assert "owner: ana" in text
    assert "# the receipt text, as finance wants it" in text
    assert "content: |\n      Dear supplier,\n      we received your file.\n" in text
    assert editor.validate_now() == ()
    assert editor.last_check.definition.owner == "ana"
