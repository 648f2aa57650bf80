"""The run page's Pause workflow… / Resume workflow… button: the workflow's own kill
switch next to what its run did."""

from __future__ import annotations

from PySide6.QtCore import Qt

from sophmate_desktop.store.models import AuditEvent
from tests.support.pages import submit


def test_pause_and_resume_the_workflow_from_its_run(qtbot, page, runs, services) -> None:
    page.refresh()
    assert page.select_run(runs.waiting)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    panel = page.panel
    assert panel.pause_button.text() == "Pa&use workflow…"
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    control = panel.workflow_switch
    qtbot.waitUntil(lambda: control.dialog is not None and control.dialog.isVisible())
    assert control.dialog.windowTitle() == "Pause workflow invoice-intake"
    submit(qtbot, control.dialog, "wrong totals in this batch")
    qtbot.waitUntil(lambda: control.dialog is None, timeout=3000)
    assert services.console.get_workflow("invoice-intake").paused
    assert "workflow invoice-intake paused" in panel.message.text()
    assert panel.pause_button.text() == "Res&ume workflow…"
    # Its pending write cannot be approved while it is paused.
    [write] = services.console.run_writes(runs.waiting)
    [refused] = services.console.approve([write.id])
    assert not refused.ok and "invoice-intake is paused" in refused.message

    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: control.dialog is not None and control.dialog.isVisible())
    assert control.dialog.windowTitle() == "Resume workflow invoice-intake"
    submit(qtbot, control.dialog, "batch corrected")
    qtbot.waitUntil(lambda: not services.console.get_workflow("invoice-intake").paused)
    qtbot.waitUntil(lambda: panel.pause_button.text() == "Pa&use workflow…", timeout=3000)
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.subject == "invoice-intake")]
    assert actions[-2:] == ["workflow.paused", "workflow.resumed"]
