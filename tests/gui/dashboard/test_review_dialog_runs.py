"""The review dialog lists the runs it covers; the reviewer ticks a failed one in."""

from __future__ import annotations

from PySide6.QtCore import Qt

from sophmate_desktop.store.models import AuditEvent, Run
from sophmate_desktop.ui.widgets.review_dialog import ReviewDialog
from tests.support.factories import fail, make_run, workflow_yaml
from tests.support.gui import on_screen


def test_ticking_a_failed_run_marks_it_reviewed(qtbot, services) -> None:
    console, db = services.console, services.console.db
    console.import_workflow(workflow_yaml("wf-one"))
    ok = make_run(db, "wf-one", status="succeeded", mode="dry_run")
    fail(db, "wf-one")
    dialog = on_screen(qtbot, ReviewDialog(console, "wf-one"), 600, 520)
    runs = dialog.run_list
    assert runs.count() == 2 and runs.ticked_ids() == [ok.id]
    assert "1 of 2 finished runs" in dialog.marks_label.text()

    runs.setFocus()
    runs.setCurrentRow(1)
    qtbot.keyClick(runs, Qt.Key.Key_Space)  # tick the failed run too
    assert len(runs.ticked_ids()) == 2
    assert "2 of 2 finished runs" in dialog.marks_label.text()
    qtbot.keyClicks(dialog.notes, "Read both; the failure was a full disk.")
    with qtbot.waitSignal(dialog.recorded, timeout=10_000):
        qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    assert Run.select().where(Run.reviewed_at.is_null()).count() == 0
    event = AuditEvent.get(AuditEvent.action == "review.recorded")
    assert sorted(event.details["runs"]) == sorted(r.id for r in Run.select())
