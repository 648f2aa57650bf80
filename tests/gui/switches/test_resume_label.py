"""The resume dialog's button says what it will do: with "category by category" it
lifts Pause all only, and the database agrees."""

from __future__ import annotations

from PySide6.QtCore import Qt

from sophmate_desktop.domain.enums import SwitchScope
from tests.support.factories import workflow_yaml
from tests.support.gui import on_screen
from tests.support.journeys.j2 import click_choice


def test_the_ok_label_follows_the_by_category_choice(qtbot, services) -> None:
    from sophmate_desktop.ui.killswitch_panel import KillSwitchPanel

    console = services.console
    console.import_workflow(workflow_yaml("wf-fin", "finance"))
    console.pause_all("hosting incident")
    panel = on_screen(qtbot, KillSwitchPanel(services), 900, 120)
    qtbot.mouseClick(panel.pause_all_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    assert dialog is not None and dialog.objectName() == "resumeDialog"
    assert dialog.ok_button.text() == "Resume everything"

    click_choice(qtbot, dialog.by_category_check)
    assert dialog.ok_button.text() == "Resume category by category"
    click_choice(qtbot, dialog.by_category_check)
    assert dialog.ok_button.text() == "Resume everything"

    click_choice(qtbot, dialog.by_category_check)
    qtbot.keyClicks(dialog.reason_edit, "incident over")
    with qtbot.waitSignal(dialog.finished, timeout=10_000):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    rows = {(r.scope, r.name): r.paused for r in console.list_switches()}
    assert rows[(SwitchScope.GLOBAL.value, "all")] is False
    assert rows[(SwitchScope.CATEGORY.value, "finance")] is True
