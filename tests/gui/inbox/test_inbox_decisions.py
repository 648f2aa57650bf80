"""Deciding in the inbox: one write, several, refusals in place, A/R keys, interrupted."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from sophmate_desktop.store.models import AuditEvent, Run, Write
from tests.support.factories import make_run, make_write, many_writes, workflow_yaml
from tests.support.pages import click_row, decide, select_ids, shown_ids


def test_bulk_reject_with_a_comment(seeded, make_page, qtbot, services):
    page = make_page()
    invoices = seeded.ids["invoices"]
    select_ids(page, invoices)
    qtbot.keyClicks(page.decisions.comment, "wrong supplier address")
    qtbot.mouseClick(page.decisions.reject, Qt.MouseButton.LeftButton)
    box = page.confirmation
    assert box is not None and box.isVisible()
    assert box.text() == "Reject 4 writes?"
    assert "wrong supplier address" in box.informativeText()
    assert QApplication.activeModalWidget() is box
    qtbot.mouseClick(box.defaultButton(), Qt.MouseButton.LeftButton)
    # busy while services.tasks works: buttons off, a moving bar, what is happening
    assert page.busy and page.decisions.busy.isVisible()
    assert not page.decisions.reject.isEnabled() and not page.decisions.approve.isEnabled()
    assert page.decisions.message.text() == "Rejecting 4 writes…"
    with qtbot.waitSignal(page.decision_finished, timeout=10_000):
        pass
    assert not page.busy and not page.decisions.busy.isVisible()
    assert page.decisions.message.text() == "4 writes rejected."
    assert page.decisions.comment.text() == ""
    assert shown_ids(page) == seeded.ids["hooks"]
    assert page.table.selectionModel().isRowSelected(0)  # the next write is ready
    stored = Write.select().where(Write.id.in_(invoices))
    assert {(w.status, w.decided_by, w.comment) for w in stored} == {
        ("rejected", "ana", "wrong supplier address")
    }
    events = AuditEvent.select().where(AuditEvent.action == "write.rejected")
    assert sorted(int(e.subject.split()[1]) for e in events) == invoices
    assert {e.reason for e in events} == {"wrong supplier address"}
    run_id = Write.get_by_id(invoices[0]).run_id
    assert Run.get_by_id(run_id).status == "rejected"


def test_cancelling_the_confirmation_decides_nothing(seeded, make_page, qtbot):
    page = make_page()
    select_ids(page, seeded.ids["hooks"])
    qtbot.mouseClick(page.decisions.approve, Qt.MouseButton.LeftButton)
    box = page.confirmation
    assert box.text() == "Approve 2 writes?"
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.confirmation is None)
    assert not page.busy
    assert Write.select().where(Write.status == "pending").count() == 6


def test_reject_without_a_comment_asks_for_one_in_place(seeded, make_page, qtbot):
    page = make_page()
    select_ids(page, seeded.ids["hooks"][:1])
    qtbot.mouseClick(page.decisions.reject, Qt.MouseButton.LeftButton)
    assert page.confirmation is None and not page.busy
    assert "needs a comment" in page.decisions.message.text()
    assert page.decisions.comment.hasFocus()
    assert Write.get_by_id(seeded.ids["hooks"][0]).status == "pending"


def test_a_paused_category_refuses_in_place(seeded, make_page, qtbot):
    seeded.lead.pause_category("finance", "month-end close")
    page = make_page()
    [first, *_] = seeded.ids["invoices"]
    select_ids(page, [first])
    decide(qtbot, page, page.decisions.approve)
    assert QApplication.activeModalWidget() is None
    message = page.decisions.message
    assert message.isVisible() and message.property("level") == "error"
    assert "category finance is paused by lead" in message.text()
    assert "month-end close" in message.text()
    assert Write.get_by_id(first).status == "pending"
    assert page.selected_ids() == [first]  # still there, still selected


def test_four_eyes_refuses_the_last_editor_and_not_a_colleague(
    seeded, make_page, qtbot, gui_db, services
):
    ana = services.console
    ana.import_workflow(workflow_yaml("ana-flow", "finance"))
    ana.set_four_eyes(True)
    mine = make_write(gui_db, make_run(gui_db, "ana-flow"), target="/srv/mine.txt")
    page = make_page()
    select_ids(page, [mine.id, seeded.ids["hooks"][0]])
    qtbot.mouseClick(page.decisions.approve, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(page.decision_finished, timeout=10_000):
        qtbot.mouseClick(page.confirmation.defaultButton(), Qt.MouseButton.LeftButton)
    text = page.decisions.message.text()
    assert text.startswith("1 of 2 writes done; 1 refused:")
    assert "four-eyes rule" in text and "ana-flow" in text
    assert page.selected_ids() == [mine.id]
    assert Write.get_by_id(mine.id).status == "pending"
    assert Write.get_by_id(seeded.ids["hooks"][0]).status == "approved"


def test_a_and_r_keys_decide_and_move_to_the_next_write(seeded, make_page, qtbot):
    page = make_page()
    first, second, third, mail = seeded.ids["invoices"]
    click_row(qtbot, page, first)
    assert page.selected_ids() == [first] and page.table.hasFocus()
    with qtbot.waitSignal(page.decision_finished, timeout=10_000):
        qtbot.keyClick(page.table, Qt.Key.Key_A)
    assert page.selected_ids() == [second]
    with qtbot.waitSignal(page.decision_finished, timeout=10_000):
        qtbot.keyClick(page.table, Qt.Key.Key_A)
    assert page.selected_ids() == [third]
    page.decisions.comment.setText("not this month")
    page.table.setFocus()
    with qtbot.waitSignal(page.decision_finished, timeout=10_000):
        qtbot.keyClick(page.table, Qt.Key.Key_R)
    assert page.selected_ids() == [mail]
    statuses = {w.id: (w.status, w.comment) for w in Write.select()}
    assert statuses[first] == ("approved", None) and statuses[second] == ("approved", None)
    assert statuses[third] == ("rejected", "not this month")
    # A typed in the comment field is text, not an approval
    qtbot.keyClicks(page.decisions.comment, "Aa")
    assert page.decisions.comment.text() == "Aa" and not page.busy
    assert Write.get_by_id(mail).status == "pending"


def test_interrupted_write_is_marked_applied_or_retried(seeded, make_page, qtbot, gui_db):
    run = make_run(gui_db, "hooks", status="applying")
    stuck = make_write(gui_db, run, kind="send_email", effect="email", status="interrupted")
    again = make_write(gui_db, run, seq=2, kind="send_email", effect="email", status="interrupted")
    page = make_page()
    bar = page.decisions
    select_ids(page, [stuck.id])
    assert bar.mark_applied.isVisible() and bar.retry.isVisible()
    assert not bar.approve.isEnabled()
    assert page.model.loaded_rows()[page.model.row_of(stuck.id)].status == "interrupted"
    bar.comment.setText("the customer confirmed they got it")
    decide(qtbot, page, bar.mark_applied)
    w = Write.get_by_id(stuck.id)
    assert (w.status, w.comment, w.decided_by) == (
        "applied",
        "the customer confirmed they got it",
        "ana",
    )
    assert AuditEvent.select().where(AuditEvent.action == "write.marked_applied").count() == 1
    assert stuck.id not in shown_ids(page)
    select_ids(page, [again.id])
    decide(qtbot, page, bar.retry)
    assert Write.get_by_id(again.id).status == "approved"
    assert not bar.mark_applied.isVisible()


def test_after_a_decision_the_next_row_is_selected_where_the_view_was(
    seeded, make_page, qtbot, gui_db
):
    bulk = many_writes(gui_db, "hooks", 450)
    page = make_page()
    page.show_write(bulk[300])
    bar = page.table.verticalScrollBar()
    before = bar.value()
    assert before > 200
    with qtbot.waitSignal(page.decision_finished, timeout=10_000):
        qtbot.keyClick(page.table, Qt.Key.Key_A)
    assert page.selected_ids() == [bulk[301]]
    assert abs(bar.value() - before) <= 2
    assert Write.get_by_id(bulk[300]).status == "approved"


def test_retrying_a_paused_workflows_write_says_it_waits_for_the_resume(
    seeded, make_page, qtbot, gui_db
):
    run = make_run(gui_db, "hooks", status="applying")
    stuck = make_write(gui_db, run, kind="send_email", effect="email", status="interrupted")
    seeded.lead.pause_workflow("hooks", "provider maintenance")
    page = make_page()
    select_ids(page, [stuck.id])
    decide(qtbot, page, page.decisions.retry)
    assert Write.get_by_id(stuck.id).status == "approved"
    shown = page.decisions.message.text()
    assert shown == (
        "1 write resolved. It waits for the resume: "
        "workflow hooks is paused: provider maintenance."
    )
