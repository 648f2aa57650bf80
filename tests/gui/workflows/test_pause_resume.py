"""A workflow's own kill switch on the Workflows page: Pause… asks a reason and holds
its queued runs; Resume… says why it paused itself and offers to record the review."""

from __future__ import annotations

from PySide6.QtCore import Qt

from sophmate_desktop.ui.widgets.switch_dialogs import SwitchDialog
from tests.support.factories import fail, make_run, workflow_yaml
from tests.support.gui import button, click
from tests.support.journeys.j2 import click_choice


def test_pause_then_resume_with_replay(qtbot, page, console, db, find_dialog):
    console.import_workflow(workflow_yaml("wf-one"))
    run = make_run(db, "wf-one", status="queued")
    page.refresh()
    page.show_workflow("wf-one")
    assert button(page, "pauseButton").text() == "Pa&use…"

    click(qtbot, page, "pauseButton")
    dialog = find_dialog(SwitchDialog)
    assert dialog.windowTitle() == "Pause workflow wf-one"
    assert not dialog.ok_button.isEnabled()  # a reason is required
    qtbot.keyClicks(dialog.reason_edit, "wrong input folder")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=3000)
    wf = console.get_workflow("wf-one")
    assert (wf.paused, wf.paused_reason) == (True, "wrong input folder")
    assert console.get_run(run.id).status == "held"
    assert "wf-one paused; 1 queued run held" in page.message.text()
    qtbot.waitUntil(lambda: button(page, "pauseButton").text() == "Res&ume…", timeout=3000)

    click(qtbot, page, "pauseButton")
    dialog = find_dialog(SwitchDialog)
    assert dialog.windowTitle() == "Resume workflow wf-one"
    explanation = dialog.findChild(type(dialog.error_label), "dialogExplanation").text()
    assert "It was paused by ana" in explanation and ": wrong input folder" in explanation
    assert dialog.review_check is None  # a person paused it: no review falls due
    assert dialog.held_box.title() == "1 held run waiting"
    qtbot.keyClicks(dialog.reason_edit, "folder fixed")
    click_choice(qtbot, dialog.held_buttons["replay"])
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not console.get_workflow("wf-one").paused, timeout=3000)
    qtbot.waitUntil(lambda: "1 held run queued again" in page.message.text(), timeout=3000)
    assert console.get_run(run.id).status == "queued"


def test_resume_after_it_paused_itself_records_the_review(qtbot, page, console, db, find_dialog):
    console.import_workflow(workflow_yaml("wf-one"))
    for _ in range(3):
        fail(db, "wf-one")
    page.refresh()
    page.show_workflow("wf-one")
    qtbot.waitUntil(lambda: button(page, "pauseButton").text() == "Res&ume…", timeout=3000)
    click(qtbot, page, "pauseButton")
    dialog = find_dialog(SwitchDialog)
    explanation = dialog.findChild(type(dialog.error_label), "dialogExplanation").text()
    assert "paused by itself" in explanation
    assert "because its runs failed too many times in a row" in explanation
    check = dialog.review_check
    assert check.text() == "Record the after-failure review now (notes: the reason)"
    assert not check.isChecked()  # an offer: recording a review is hers to say
    qtbot.keyClicks(dialog.reason_edit, "parser fixed")
    click_choice(qtbot, check)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not console.get_workflow("wf-one").paused, timeout=3000)
    qtbot.waitUntil(lambda: "after-failure review recorded" in page.message.text(), timeout=3000)
    [review] = [r for r in console.list_audit(workflow="wf-one") if r.action == "review.recorded"]
    assert review.actor == "ana"
    assert console.workflow_pause_state("wf-one").review_due is None
