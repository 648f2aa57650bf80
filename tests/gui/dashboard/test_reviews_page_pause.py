"""The Reviews page's Pause / resume… button: resuming a workflow that paused itself
from its due review says why it paused and records that review with the resume."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from sophmate_desktop.store.models import Review
from tests.support.factories import fail, workflow_yaml
from tests.support.pages import loaded, submit


def test_resume_from_the_due_review_records_it(qtbot, services, reviews) -> None:
    console, db = services.console, services.console.db
    console.import_workflow(workflow_yaml("wf-one"))
    for _ in range(3):
        fail(db, "wf-one")
    assert console.get_workflow("wf-one").paused
    loaded(qtbot, reviews)
    row = [r.kind for r in reviews.due_model.loaded_rows()].index("after_failure")
    reviews.due_table.selectRow(row)
    assert reviews.pause_button.isEnabled()
    qtbot.mouseClick(reviews.pause_button, Qt.MouseButton.LeftButton)
    control = reviews.workflow_switch
    qtbot.waitUntil(lambda: control.dialog is not None and control.dialog.isVisible())
    dialog = control.dialog
    check = dialog.review_check
    qtbot.mouseClick(check, Qt.MouseButton.LeftButton, pos=QPoint(8, check.height() // 2))
    submit(qtbot, dialog, "the input share is back")
    qtbot.waitUntil(lambda: not console.get_workflow("wf-one").paused, timeout=3000)
    qtbot.waitUntil(lambda: "after-failure review recorded" in reviews.status.text(), timeout=3000)
    [stored] = Review.select()
    assert (stored.reviewer, stored.kind, stored.notes) == (
        "ana",
        "after_failure",
        "the input share is back",
    )
    qtbot.waitUntil(
        lambda: "after_failure" not in [r.kind for r in reviews.due_model.loaded_rows()],
        timeout=3000,
    )
