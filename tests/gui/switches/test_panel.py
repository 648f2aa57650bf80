"""The kill-switch panel and the paused banner, driven like a person: click a switch,
give a reason, see it red with who, when and why; resume and decide the held runs."""

from __future__ import annotations

from PySide6.QtCore import Qt

from sophmate_desktop.console import Console
from sophmate_desktop.store.models import AuditEvent, Run
from tests.support.factories import make_run, workflow_yaml
from tests.support.pages import open_dialog, submit

RED = "#c62828"


def test_pausing_needs_a_reason_ok_stays_disabled_while_it_is_empty(qtbot, panel, services):
    dialog = open_dialog(qtbot, panel, "category", "finance")
    assert dialog.objectName() == "pauseDialog"
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.reason_edit, "   ")
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)  # Enter does not sneak past it
    assert dialog.isVisible()
    assert not any(r.paused for r in services.console.list_switches())
    qtbot.keyClicks(dialog.reason_edit, "audit")
    assert dialog.ok_button.isEnabled()
    dialog.reason_edit.clear()
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: panel.dialog is None)
    assert not any(r.paused for r in services.console.list_switches())
    assert not panel.switch_button("category", "finance").isChecked()
    assert AuditEvent.select().where(AuditEvent.action.endswith(".paused")).count() == 0


def test_a_paused_category_is_red_with_who_when_why_and_the_banner_says_so(
    qtbot, panel, banner, services, gui_db
):
    make_run(gui_db, "wf-fin", status="queued")
    dialog = open_dialog(qtbot, panel, "category", "finance")
    submit(qtbot, dialog, "audit in progress")
    qtbot.waitUntil(lambda: panel.dialog is None)

    [finance] = [r for r in services.console.list_switches() if r.name == "finance"]
    assert (finance.paused, finance.paused_by, finance.paused_reason) == (
        True,
        "ana",
        "audit in progress",
    )
    button = panel.switch_button("category", "finance")
    assert button.property("paused") is True
    assert RED in button.styleSheet()  # red even with no style sheet loaded
    assert button.isChecked()
    assert button.text() == "finance — paused, 1 held run"
    assert "paused by ana" in button.toolTip() and "audit in progress" in button.toolTip()
    other = panel.switch_button("category", "reporting")
    assert other.property("paused") is False and other.styleSheet() == ""

    qtbot.waitUntil(banner.isVisible)
    hhmm = banner.text().split("by ana ")[1][:5]
    assert banner.text() == f"Paused: finance (by ana {hhmm}: audit in progress)"
    assert banner.property("paused") is True and RED in banner.styleSheet()
    ev = AuditEvent.select().where(AuditEvent.action == "category.paused").get()
    assert (ev.actor, ev.subject, ev.reason) == ("ana", "finance", "audit in progress")


def test_resume_asks_to_replay_or_discard_showing_how_many_are_held(
    qtbot, panel, banner, services, gui_db
):
    runs = [make_run(gui_db, "wf-fin", status="queued") for _ in range(2)]
    services.console.pause_category("finance", "month end")
    qtbot.waitUntil(lambda: panel.switch_button("category", "finance").isChecked())
    qtbot.waitUntil(banner.isVisible)

    dialog = open_dialog(qtbot, panel, "category", "finance")
    assert dialog.objectName() == "resumeDialog"
    assert "by ana" in dialog.findChild(type(dialog.error_label), "dialogExplanation").text()
    assert dialog.held_buttons["replay"].text().replace("&", "") == "Replay all 2 now"
    assert dialog.held_buttons["discard"].text().replace("&", "").startswith("Discard all 2")
    qtbot.keyClicks(dialog.reason_edit, "month closed")
    assert not dialog.ok_button.isEnabled()  # the held runs need a decision
    submit(qtbot, dialog, "", held="replay")
    qtbot.waitUntil(lambda: panel.dialog is None, timeout=5000)

    assert {Run.get_by_id(r.id).status for r in runs} == {"queued"}
    resumed = AuditEvent.select().where(AuditEvent.action == "category.resumed").get()
    assert (resumed.reason, resumed.details["held_choice"], resumed.details["held_count"]) == (
        "month closed",
        "replay",
        2,
    )
    assert AuditEvent.select().where(AuditEvent.action == "held.replayed").count() == 1
    button = panel.switch_button("category", "finance")
    assert not button.isChecked() and button.property("paused") is False
    assert button.text() == "finance"
    qtbot.waitUntil(lambda: not banner.isVisible())


def test_discard_cancels_the_held_runs(qtbot, panel, services, gui_db):
    run = make_run(gui_db, "wf-fin", status="queued")
    services.console.pause_category("finance", "bad batch")
    qtbot.waitUntil(lambda: panel.switch_button("category", "finance").isChecked())
    dialog = open_dialog(qtbot, panel, "category", "finance")
    submit(qtbot, dialog, "batch removed", held="discard")
    qtbot.waitUntil(lambda: panel.dialog is None, timeout=5000)
    assert Run.get_by_id(run.id).status == "cancelled"
    assert AuditEvent.select().where(AuditEvent.action == "held.discarded").count() == 1


def test_a_refused_resume_shows_in_the_dialog_and_changes_nothing(qtbot, panel, services, gui_db):
    make_run(gui_db, "wf-fin", status="queued")
    services.console.pause_category("finance", "audit")
    Console(services.console.db, actor="bo").pause_all("hosting incident")
    qtbot.waitUntil(lambda: panel.pause_all_button.isChecked())
    dialog = open_dialog(qtbot, panel, "category", "finance")
    submit(qtbot, dialog, "audit done", held="replay")
    error = dialog.error_label
    qtbot.waitUntil(error.isVisible, timeout=5000)
    assert "cannot be replayed" in error.text() and "paused by bo" in error.text()
    assert dialog.isVisible() and dialog.reason_edit.text() == "audit done"
    [finance] = [r for r in services.console.list_switches() if r.name == "finance"]
    assert finance.paused and finance.held_runs == 1
    # keeping them held is allowed while everything is paused
    submit(qtbot, dialog, "", held="keep")
    qtbot.waitUntil(lambda: panel.dialog is None, timeout=5000)
    [finance] = [r for r in services.console.list_switches() if r.name == "finance"]
    assert not finance.paused and finance.held_runs == 1


def test_an_effect_switch_pauses_and_resumes_without_a_held_choice(qtbot, panel, banner, services):
    dialog = open_dialog(qtbot, panel, "effect", "customer_facing")
    submit(qtbot, dialog, "mail merge is wrong")
    qtbot.waitUntil(lambda: panel.dialog is None)
    button = panel.switch_button("effect", "customer_facing")
    assert button.property("paused") is True and button.text() == "customer-facing — paused"
    qtbot.waitUntil(banner.isVisible)
    assert banner.text().startswith("Paused: customer-facing (by ana ")
    dialog = open_dialog(qtbot, panel, "effect", "customer_facing")
    assert dialog.held_buttons == {}
    submit(qtbot, dialog, "template fixed")
    qtbot.waitUntil(lambda: panel.dialog is None, timeout=5000)
    assert not any(r.paused for r in services.console.list_switches())
    assert button.property("paused") is False


def test_pause_all_when_everything_is_already_paused_says_so_in_place(qtbot, panel, services):
    Console(services.console.db, actor="bo").pause_all("hosting incident")
    panel.refresh()
    assert panel.pause_all_button.text() == "Resume all…"
    assert panel.pause_all_button.property("paused") is True
    assert panel.pause_all_button.toolTip().startswith("everything is paused by bo ")
    panel.pause_all_action.trigger()
    assert panel.dialog is None
    assert panel.message.isVisible()
    assert panel.message.text().startswith("Everything is already paused by bo ")
    assert panel.message.text().endswith(": hosting incident.")


def test_a_new_category_gets_its_switch(qtbot, panel, services):
    services.console.import_workflow(workflow_yaml("wf-ops", "operations"))
    qtbot.waitUntil(lambda: ("category", "operations") in panel.buttons)
    names = [k[1] for k in panel.buttons if k[0] == "category"]
    assert names == ["finance", "operations", "reporting"]


def test_a_category_button_tells_its_cost_budget(services, qtbot) -> None:
    from sophmate_desktop.ui.killswitch_panel import KillSwitchPanel
    from tests.support.factories import workflow_yaml

    services.console.import_workflow(workflow_yaml("wf-budget", "finance"))
    services.console.set_category_budget("finance", per_day=12.5)
    panel = KillSwitchPanel(services)
    qtbot.addWidget(panel)
    tip = panel.buttons[("category", "finance")].toolTip()
    assert "Cost budget: 12.50 per day; it pauses itself when spent." in tip


def test_a_replay_leaves_a_paused_workflows_runs_held_and_says_why(qtbot, panel, services, gui_db):
    services.console.import_workflow(workflow_yaml("wf-fin-2", "finance"))
    [kept] = [make_run(gui_db, "wf-fin", status="queued")]
    [goes] = [make_run(gui_db, "wf-fin-2", status="queued")]
    services.console.pause_category("finance", "month end")
    services.console.pause_workflow("wf-fin", "supplier file format changed")
    qtbot.waitUntil(lambda: panel.switch_button("category", "finance").isChecked())
    dialog = open_dialog(qtbot, panel, "category", "finance")
    submit(qtbot, dialog, "month closed", held="replay")
    qtbot.waitUntil(lambda: panel.dialog is None, timeout=5000)
    assert Run.get_by_id(goes.id).status == "queued"
    assert Run.get_by_id(kept.id).status == "held"
    message = panel.findChild(type(panel.message), panel.message.objectName()).text()
    assert message == (
        f"1 held run stays held ({kept.id}): "
        "workflow wf-fin is paused: supplier file format changed"
    )
