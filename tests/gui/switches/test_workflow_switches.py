"""Paused workflows in the kill-switch panel and the banner: each is its own switch,
red with who, when and why; clicking it resumes it (with the review it made due)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from sophmate_desktop.store.models import AuditEvent
from tests.support.factories import fail, make_run
from tests.support.pages import submit


def test_a_paused_workflow_shows_in_the_panel_and_the_banner(
    qtbot, panel, banner, services, gui_db
):
    make_run(gui_db, "wf-fin", status="queued")
    services.console.pause_workflow("wf-fin", "wrong rates")
    panel.refresh()
    button = panel.switch_button("workflow", "wf-fin")
    assert button.text() == "wf-fin — paused, 1 held run"
    assert button.isChecked() and button.property("paused") is True
    assert "paused by ana" in button.toolTip() and "wrong rates" in button.toolTip()
    assert panel.workflow_label.isVisible()
    qtbot.waitUntil(lambda: "workflow wf-fin (by ana " in banner.text(), timeout=3000)

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    control = panel.workflow_switch
    qtbot.waitUntil(lambda: control.dialog is not None and control.dialog.isVisible())
    dialog = control.dialog
    assert dialog.windowTitle() == "Resume workflow wf-fin"
    submit(qtbot, dialog, "rates fixed", held="replay")
    qtbot.waitUntil(lambda: control.dialog is None, timeout=3000)
    qtbot.waitUntil(lambda: ("workflow", "wf-fin") not in panel.buttons, timeout=3000)
    assert not panel.workflow_label.isVisible()
    [ev] = AuditEvent.select().where(AuditEvent.action == "workflow.resumed")
    assert (ev.reason, ev.details["held_choice"]) == ("rates fixed", "replay")
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=3000)


def test_resuming_a_self_paused_workflow_from_the_panel_records_its_review(
    qtbot, panel, services, gui_db
):
    for _ in range(3):
        fail(gui_db, "wf-rep")
    panel.refresh()
    button = panel.switch_button("workflow", "wf-rep")
    assert button.text() == "wf-rep — paused"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    control = panel.workflow_switch
    qtbot.waitUntil(lambda: control.dialog is not None and control.dialog.isVisible())
    dialog = control.dialog
    check = dialog.review_check
    qtbot.mouseClick(check, Qt.MouseButton.LeftButton, pos=QPoint(8, check.height() // 2))
    assert check.isChecked()
    submit(qtbot, dialog, "fixed the feed")
    # The dialog closes once the resume and the review it records are both done.
    qtbot.waitUntil(lambda: control.dialog is None, timeout=3000)
    assert not services.console.get_workflow("wf-rep").paused
    [review] = AuditEvent.select().where(AuditEvent.action == "review.recorded")
    assert (review.actor, review.workflow) == ("ana", "wf-rep")
    [resumed] = AuditEvent.select().where(AuditEvent.action == "workflow.resumed")
    assert resumed.details["cause"] == "consecutive_failures"
