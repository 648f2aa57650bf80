"""The Reviews page: due and overdue reviews with the reason, and the review dialog."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from sophmate_desktop.domain.errors import PolicyRefused
from sophmate_desktop.store.models import AuditEvent, Review, Run, Workflow
from sophmate_desktop.ui import navigator as nav
from sophmate_desktop.ui.pages.reviews import OVERDUE
from sophmate_desktop.ui.widgets.review_dialog import ReviewDialog
from tests.support.factories import backdate_workflow, fail, make_run, workflow_yaml
from tests.support.pages import loaded


def column(model, title: str) -> int:
    titles = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    return titles.index(title)


def shown(model, title: str) -> list[str]:
    c = column(model, title)
    return [model.index(r, c).data() for r in range(model.rowCount())]


def open_dialog_with_enter(qtbot, page, view, row: int) -> ReviewDialog:
    view.setFocus()
    view.selectRow(row)
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.dialog is not None and page.dialog.isVisible())
    return page.dialog


def record(qtbot, page, dialog: ReviewDialog, notes: str) -> None:
    assert not dialog.record_button.isEnabled(), "notes are required"
    qtbot.keyClicks(dialog.notes, notes)
    assert dialog.record_button.isEnabled()
    with qtbot.waitSignal(page.refreshed, timeout=10_000):
        qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)


def test_due_list_shows_the_reason_and_overdue_in_red(qtbot, services, reviews) -> None:
    console, db = services.console, services.console.db
    console.import_workflow(workflow_yaml("wf-new"))
    console.import_workflow(workflow_yaml("wf-old", owner=""))
    backdate_workflow(db, "wf-old", days=10)

    with qtbot.waitSignal(reviews.title_changed, timeout=10_000) as title:
        reviews.refresh()
    assert title.args == ["Reviews (2)"]
    model = reviews.due_model
    assert shown(model, "Workflow") == ["wf-old", "wf-new"]  # oldest due first
    reasons = shown(model, "Reason")
    assert reasons[1] == "the first run has not been reviewed"
    assert reasons[0].startswith("the first run has not been reviewed; overdue since ")
    assert shown(model, "Owner") == ["— none —", "ops-lead"]
    colour = model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole)
    assert colour == OVERDUE
    assert model.index(1, 0).data(Qt.ItemDataRole.ForegroundRole) is None
    assert reviews.summary.text() == "2 reviews due, 1 overdue"
    assert reviews.selected_row().workflow == "wf-old"  # Enter reviews the most pressing
    assert reviews.review_button.isEnabled()


def test_recording_a_review_in_the_dialog_stores_it_and_the_row_leaves(
    qtbot, services, reviews
) -> None:
    console, db = services.console, services.console.db
    console.import_workflow(workflow_yaml("wf-one"))
    make_run(db, "wf-one", status="succeeded", mode="dry_run")
    fail(db, "wf-one")
    loaded(qtbot, reviews)
    assert shown(reviews.due_model, "Review") == ["First run", "After a failure"]

    dialog = open_dialog_with_enter(qtbot, reviews, reviews.due_table, 1)
    assert dialog.kind_combo.currentData() == "after_failure"
    assert "a run failed at" in dialog.reason_label.text()
    assert dialog.runs_label.text() == "1 succeeded, 1 failed"
    assert (
        dialog.marks_label.text()
        == "Recording marks 1 of 2 finished runs reviewed (the ticked ones)."
    )
    runs = dialog.run_list
    assert [runs.item(i).text().split(" · ")[1] for i in range(runs.count())] == [
        "succeeded",
        "failed",
    ]
    assert runs.ticked_ids() == [runs.item(0).data(Qt.ItemDataRole.UserRole)]
    with qtbot.waitSignal(reviews.title_changed, timeout=10_000) as title:
        record(qtbot, reviews, dialog, "Disk was full on the file server; cleaned up.")

    assert reviews.due_model.rowCount() == 0
    assert title.args == ["Reviews"]
    [stored] = Review.select()
    assert (stored.reviewer, stored.kind, stored.notes) == (
        "ana",
        "after_failure",
        "Disk was full on the file server; cleaned up.",
    )
    [event] = AuditEvent.select().where(AuditEvent.action == "review.recorded")
    assert (event.workflow, event.details["runs_reviewed"]) == ("wf-one", 1)
    assert Run.select().where(Run.reviewed_at.is_null(False)).count() == 1
    assert "recorded" in reviews.status.text()


def test_review_in_the_dialog_makes_promotion_possible(qtbot, services, reviews) -> None:
    console, db = services.console, services.console.db
    console.import_workflow(workflow_yaml("wf-one"))
    make_run(db, "wf-one", status="succeeded", mode="dry_run")
    with pytest.raises(PolicyRefused, match="needs 1 reviewed successful dry run"):
        console.promote("wf-one", "staging")

    loaded(qtbot, reviews)
    dialog = open_dialog_with_enter(qtbot, reviews, reviews.due_table, 0)
    assert dialog.kind_combo.currentData() == "first_run"
    assert dialog.promotion_label.text().endswith("after this review it is allowed")
    record(qtbot, reviews, dialog, "Planned write is right.")
    assert "promotion to staging is allowed now" in reviews.status.text()
    assert console.promote("wf-one", "staging").stage == "staging"

    # Staging: five successful runs wait for a review before production.
    for _ in range(5):
        make_run(db, "wf-one", status="succeeded", mode="staging")
    with pytest.raises(PolicyRefused, match="0 of 5 reviewed staging runs"):
        console.promote("wf-one", "production")
    loaded(qtbot, reviews)
    assert reviews.due_model.rowCount() == 0  # nothing is due: the runs table says why
    assert shown(reviews.runs_model, "Promotion counts") == ["0 of 5 reviewed staging runs"]
    assert shown(reviews.runs_model, "Succeeded") == ["5"]
    dialog = open_dialog_with_enter(qtbot, reviews, reviews.runs_table, 0)
    assert dialog.kind_combo.currentData() == "monthly"
    assert "0 of 5 reviewed staging runs" in dialog.promotion_label.text()
    assert dialog.promotion_label.text().endswith("after this review it is allowed")
    record(qtbot, reviews, dialog, "Five staging outputs compared with the originals.")
    assert reviews.runs_model.rowCount() == 0
    assert console.promote("wf-one", "production").stage == "production"


def test_the_dialog_can_name_a_new_owner(qtbot, services, reviews) -> None:
    console = services.console
    console.import_workflow(workflow_yaml("wf-one", owner=""))
    loaded(qtbot, reviews)
    dialog = open_dialog_with_enter(qtbot, reviews, reviews.due_table, 0)
    qtbot.keyClicks(dialog.owner_edit, "bo")
    record(qtbot, reviews, dialog, "Owner left the team; bo takes over.")
    assert Workflow.get(Workflow.name == "wf-one").owner == "bo"
    assert console.dashboard().escalations == ()


def test_cancel_records_nothing(qtbot, services, reviews) -> None:
    services.console.import_workflow(workflow_yaml("wf-one"))
    loaded(qtbot, reviews)
    dialog = open_dialog_with_enter(qtbot, reviews, reviews.due_table, 0)
    qtbot.keyClicks(dialog.notes, "half-written")
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: reviews.dialog is None)
    assert Review.select().count() == 0
    assert reviews.due_model.rowCount() == 1


def test_the_side_bar_counts_due_reviews(qtbot, make_window) -> None:
    make_window("seed")
    window = make_window("ana")
    items = [window.page_list.item(r) for r in range(window.page_list.count())]
    [item] = [i for i in items if i.data(Qt.ItemDataRole.UserRole) == nav.REVIEWS]
    window.services.console.import_workflow(workflow_yaml("wf-one"))
    qtbot.waitUntil(lambda: item.text() == "Reviews (1)", timeout=10_000)
    window.services.console.record_review("wf-one", "first_run", notes="ok")
    qtbot.waitUntil(lambda: item.text() == "Reviews", timeout=10_000)
