"""The workflows table and the page's actions: promote, enable/disable, import,
export, and a dry run on a file through a real engine."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QLabel

from sophmate_desktop.domain.workflow_file import parse_workflow_yaml
from sophmate_desktop.ui.widgets.wf_dialogs import ConfirmDialog, ReasonDialog
from tests.support.factories import make_run, workflow_yaml
from tests.support.gui import click
from tests.support.paths import EXAMPLES


def cell(page, name: str, title: str) -> str:
    model = page.model
    column = next(
        c for c in range(model.columnCount()) if model.headerData(c, Qt.Horizontal) == title
    )
    row = model.row_of(name)
    assert row is not None, name
    return model.index(row, column).data()


def choose_file(find_dialog, path: Path) -> None:
    dialog = find_dialog(QFileDialog)
    dialog.selectFile(str(path))
    dialog.accept()


def test_table_shows_stage_health_escalations_and_review(qtbot, page, console, db):
    console.import_workflow(workflow_yaml("wf-one"))
    console.import_workflow((EXAMPLES / "invoice-intake.yaml").read_bytes())
    for status in ("succeeded", "succeeded", "succeeded", "succeeded", "failed"):
        make_run(db, "wf-one", status=status, mode="dry_run")
    page.refresh()

    assert cell(page, "wf-one", "Stage") == "dry run"
    assert cell(page, "wf-one", "Enabled") == "no"
    assert cell(page, "wf-one", "Health") == "4 ok · 1 failed"
    assert cell(page, "invoice-intake", "Health") == "no runs yet"
    assert cell(page, "invoice-intake", "Escalations") == "customer-facing"
    assert cell(page, "wf-one", "Review") == "due: first run"

    # Sorting happens in SQL: by stage puts the staging workflow last.
    make_run(db, "wf-one", status="succeeded", mode="dry_run", reviewed=True)
    console.promote("wf-one", "staging")
    page.refresh()
    page.table.sortByColumn(2, Qt.SortOrder.AscendingOrder)
    assert [r.name for r in page.model.loaded_rows()] == ["invoice-intake", "wf-one"]
    page.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    assert [r.name for r in page.model.loaded_rows()] == ["wf-one", "invoice-intake"]

    # A paused category shows on its workflows; it follows the event at once.
    console.pause_category("finance", "month-end close")
    qtbot.waitUntil(lambda: cell(page, "wf-one", "Paused") == "category paused", timeout=2000)

    # Enter on a row opens it in the editor, ready to type.
    page.table.setFocus()
    page.table.selectRow(page.model.row_of("invoice-intake"))
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert page.editor.name == "invoice-intake"
    assert page.editor.form.fields["name"].hasFocus()

    # Ctrl+F goes to the filter, which filters in SQL too.
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert page.search_edit.hasFocus()
    qtbot.keyClicks(page.search_edit, "invoice")
    assert [r.name for r in page.model.loaded_rows()] == ["invoice-intake"]


def test_promote_is_refused_until_five_reviewed_staging_runs(qtbot, page, console, db, find_dialog):
    console.import_workflow(workflow_yaml("wf-one"))
    make_run(db, "wf-one", mode="dry_run", status="succeeded", reviewed=True)
    console.promote("wf-one", "staging")
    for _ in range(3):
        make_run(db, "wf-one", mode="staging", status="succeeded", reviewed=True)
    # Neither an unreviewed success nor a reviewed failure counts toward graduation.
    make_run(db, "wf-one", mode="staging", status="succeeded", reviewed=False)
    make_run(db, "wf-one", mode="staging", status="failed", reviewed=True)
    page.refresh()
    page.show_workflow("wf-one")

    click(qtbot, page, "promoteButton")
    assert "3 of 5 reviewed staging runs" in page.message.text()
    assert page.message.property("tone") == "error"
    assert console.get_workflow("wf-one").stage == "staging"

    for _ in range(2):
        make_run(db, "wf-one", mode="staging", status="succeeded", reviewed=True)
    click(qtbot, page, "promoteButton")
    dialog = find_dialog(ConfirmDialog)
    assert "from staging to production" in dialog.findChild(QLabel, "dialogExplanation").text()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    assert console.get_workflow("wf-one").stage == "production"
    assert cell(page, "wf-one", "Stage") == "production"
    assert "production" in page.message.text()
    promoted = console.list_audit(action="workflow.promoted", workflow="wf-one")
    assert promoted[0].details == {"from": "staging", "to": "production"}
    assert not page.promote_action.isEnabled()  # nothing after production


def test_enable_is_refused_with_the_missing_items_then_enable_and_disable_with_reason(
    qtbot, page, console, find_dialog
):
    console.import_workflow((EXAMPLES / "invoice-intake.yaml").read_bytes())
    console.import_workflow(workflow_yaml("wf-one"))
    page.refresh()

    page.show_workflow("invoice-intake")
    click(qtbot, page, "enableButton")
    assert page.message.text() == (
        "cannot enable invoice-intake: missing notification path, rollback path"
    )
    assert not console.get_workflow("invoice-intake").enabled

    page.show_workflow("wf-one")
    page.table.setFocus()
    qtbot.keyClick(
        page.table,
        Qt.Key.Key_E,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert console.get_workflow("wf-one").enabled
    assert cell(page, "wf-one", "Enabled") == "yes"

    click(qtbot, page, "disableButton")
    dialog = find_dialog(ReasonDialog)
    assert not dialog.ok_button.isEnabled()  # a reason is required
    qtbot.keyClicks(dialog.reason_edit, "supplier changed format")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    assert not console.get_workflow("wf-one").enabled
    assert cell(page, "wf-one", "Enabled") == "no"
    disabled = console.list_audit(action="workflow.disabled", workflow="wf-one")
    assert [e.reason for e in disabled] == ["supplier changed format"]
    assert "supplier changed format" in page.message.text()


def test_importing_a_broken_file_shows_its_errors_with_line_numbers(
    qtbot, page, console, find_dialog, tmp_path
):
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        workflow_yaml("wf-broken").replace(
            "retry: {limit: 1, backoff_s: 1}", "retry: {limit: many}"
        )
    )
    line = broken.read_text().splitlines().index("retry: {limit: many}") + 1

    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    choose_file(find_dialog, broken)

    qtbot.waitUntil(lambda: "Cannot import" in page.message.text(), timeout=5000)
    assert f"line {line}: retry.limit: expected a whole number" in page.message.text()
    assert console.list_workflows() == []
    # The file opens in the YAML tab, its line highlighted, ready to be fixed.
    assert page.editor.tabs.currentIndex() == 1
    assert page.editor.yaml.highlighted_lines() == {line}

    good = tmp_path / "good.yaml"
    good.write_text(workflow_yaml("wf-good"))
    page.editor.revert()
    click(qtbot, page, "importButton")
    choose_file(find_dialog, good)
    qtbot.waitUntil(lambda: page.editor.name == "wf-good", timeout=5000)
    assert "Imported wf-good (revision 1)" in page.message.text()
    assert page.selected().name == "wf-good"


def test_export_writes_a_yaml_file_that_reads_back_equal(
    qtbot, page, console, find_dialog, tmp_path
):
    console.import_workflow(workflow_yaml("wf-one"))
    page.refresh()
    page.show_workflow("wf-one")
    target = tmp_path / "exported.yaml"

    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    choose_file(find_dialog, target)

    qtbot.waitUntil(lambda: target.exists() and "Exported" in page.message.text(), timeout=5000)
    assert parse_workflow_yaml(target.read_text()) == console.get_definition("wf-one")


def test_dry_run_on_a_file_plans_through_a_real_engine_and_writes_nothing(
    qtbot, page, console, find_dialog, tmp_path
):
    out = tmp_path / "out"
    sample = tmp_path / "note.txt"
    sample.write_text("hello from a file")
    text = workflow_yaml("wf-dry").replace("/tmp/out", json.dumps(str(out)))
    console.import_workflow(text)
    page.refresh()
    page.show_workflow("wf-dry")
    assert page.services.engine is None  # the page starts a temporary engine

    click(qtbot, page, "dryRunButton")
    choose_file(find_dialog, sample)
    assert not page.dry_run_action.isEnabled()  # busy while it runs

    panel = page.dry_run_panel
    qtbot.waitUntil(lambda: panel.run_id is not None, timeout=20000)
    run = console.get_run(panel.run_id)
    assert (run.mode, run.status, run.trigger_path) == ("dry_run", "succeeded", str(sample))
    writes = console.run_writes(run.id)
    assert [(w.kind, w.status, w.target) for w in writes] == [
        ("write_file", "planned", str(out / "note.txt"))
    ]
    assert "succeeded (dry run)" in panel.status_text()
    assert "1 planned write" in panel.status_text()
    assert panel.write_targets() == [str(out / "note.txt")]
    assert not out.exists() or not any(out.iterdir())
    assert page.dry_run_action.isEnabled()

    with qtbot.waitSignal(page.services.navigator.run_requested, timeout=1000) as blocker:
        qtbot.mouseClick(panel.open_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [run.id]


def test_the_table_follows_changes_made_elsewhere(qtbot, page, console):
    console.import_workflow(workflow_yaml("wf-one"))
    qtbot.waitUntil(lambda: page.model.row_of("wf-one") is not None, timeout=2000)
    page.show_workflow("wf-one")
    console.enable_workflow("wf-one")  # e.g. from the CLI: the event bridge tells the page
    qtbot.waitUntil(lambda: cell(page, "wf-one", "Enabled") == "yes", timeout=2000)
    assert page.selected().name == "wf-one"  # the selection survives the refresh
    assert page.disable_action.isEnabled() and not page.enable_action.isEnabled()


def test_navigator_opens_a_workflow_and_dry_run_uses_the_running_engine(
    make_window, qtbot, tmp_path
):
    from sophmate_desktop.ui import navigator as nav

    window = make_window(start_engine=True)
    console = window.services.console
    out = tmp_path / "out"
    sample = tmp_path / "note.txt"
    sample.write_text("hello")
    console.import_workflow(workflow_yaml("wf-dry").replace("/tmp/out", json.dumps(str(out))))

    window.services.navigator.show_workflow("wf-dry")
    page = window.page(nav.WORKFLOWS)
    assert window.current_page_key() == nav.WORKFLOWS
    assert page.selected().name == "wf-dry" and page.editor.name == "wf-dry"

    page.start_dry_run("wf-dry", str(sample))
    qtbot.waitUntil(lambda: page.dry_run_panel.run_id is not None, timeout=20000)
    run = console.get_run(page.dry_run_panel.run_id)
    assert (run.mode, run.status) == ("dry_run", "succeeded")
    assert [w.status for w in console.run_writes(run.id)] == ["planned"]
    assert window.services.engine.started  # the app's engine did it and keeps running
    assert not out.exists() or not any(out.iterdir())


def test_a_dry_run_in_a_paused_category_is_held_and_says_why(qtbot, page, console, tmp_path):
    sample = tmp_path / "note.txt"
    sample.write_text("hello")
    out = tmp_path / "out"
    console.import_workflow(workflow_yaml("wf-dry").replace("/tmp/out", json.dumps(str(out))))
    console.pause_category("finance", "auditors in")
    page.refresh()
    page.show_workflow("wf-dry")

    page.start_dry_run("wf-dry", str(sample))
    qtbot.waitUntil(lambda: page.dry_run_panel.run_id is not None, timeout=20000)
    assert console.get_run(page.dry_run_panel.run_id).status == "held"
    assert "Held: a kill switch covering it is paused" in page.dry_run_panel.status_text()
    assert console.run_writes(page.dry_run_panel.run_id) == []


def test_a_hidden_page_reads_what_changed_once_it_is_shown_again(qtbot, page, console):
    page.hide()
    console.import_workflow(workflow_yaml("wf-late"))  # its event comes while hidden
    assert not page._refresh_later.pending  # a hidden page does not re-read
    assert all(page.model.row_at(i).name != "wf-late" for i in range(page.model.rowCount()))
    page.show()
    qtbot.waitUntil(
        lambda: any(page.model.row_at(i).name == "wf-late" for i in range(page.model.rowCount())),
        timeout=5000,
    )
