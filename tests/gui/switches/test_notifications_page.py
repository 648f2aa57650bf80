"""The notification centre: grouped notices, level colours, unread in bold and counted
in the side bar, Acknowledge (audited), Open run / Open inbox, Mark all read."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from sophmate_desktop.console import Console
from sophmate_desktop.store.models import AuditEvent
from sophmate_desktop.ui import navigator as nav
from sophmate_desktop.ui.pages.notifications import NotificationsPage
from tests.support.factories import note
from tests.support.gui import on_screen


@pytest.fixture
def page(qtbot, services, two_categories) -> NotificationsPage:
    return on_screen(qtbot, NotificationsPage(services), 1000, 600)


@pytest.fixture
def notices(services, two_categories) -> dict[str, int]:
    c = services.console
    ids = {}
    for run in (3, 4, 5):  # one workflow failing three times: one row, ×3
        ids["failed"] = note(
            c,
            "run_failed",
            f"wf-fin: run {run} failed",
            f"error {run}",
            workflow="wf-fin",
            run=run,
            group_key="run_failed:wf-fin",
        )
    ids["paused"] = note(
        c,
        "auto_paused",
        "wf-rep paused itself: connection changed",
        "Owner: ops-lead.",
        level="warning",
        workflow="wf-rep",
    )
    ids["pending"] = note(
        c,
        "writes_pending",
        "4 writes await approval",
        level="info",
        run=9,
        group_key="writes_pending",
    )
    return ids


def cell(page: NotificationsPage, row: int, title: str, role=Qt.ItemDataRole.DisplayRole):
    column = [
        page.model.headerData(i, Qt.Orientation.Horizontal) for i in range(page.model.columnCount())
    ].index(title)
    return page.model.index(row, column).data(role)


def click_row(qtbot, page: NotificationsPage, row: int) -> None:
    rect = page.table.visualRect(page.model.index(row, 3))
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_notices_are_listed_grouped_coloured_and_unread_in_bold(qtbot, notices, services):
    page = NotificationsPage(services)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.title_changed) as titled:
        pass  # the count is sent once the window has connected to it
    assert titled.args == ["Notifications (3)"]
    page.show()
    page.refresh()
    assert page.model.rowCount() == 3
    assert [cell(page, r, "Notice") for r in range(3)] == [
        "4 writes await approval",
        "wf-rep paused itself: connection changed",
        "wf-fin: run 5 failed ×3",
    ]
    assert cell(page, 2, "Run") == "#5" and cell(page, 2, "State") == "needs acknowledging"
    red = cell(page, 2, "Level", Qt.ItemDataRole.ForegroundRole)
    assert red.name() == "#c62828"
    assert cell(page, 0, "Level", Qt.ItemDataRole.ForegroundRole) is None
    assert cell(page, 2, "Notice", Qt.ItemDataRole.FontRole).bold()

    with qtbot.waitSignal(page.title_changed) as titled:
        click_row(qtbot, page, 2)
    assert titled.args == ["Notifications (2)"]
    assert cell(page, 2, "Notice", Qt.ItemDataRole.FontRole) is None
    assert services.console.get_notice(notices["failed"]).read
    assert "error 5" in page.detail.toPlainText()
    assert "happened 3 times" in page.detail.toPlainText()


def test_acknowledging_a_failure_is_audited_with_the_comment(qtbot, page, notices, services):
    page.refresh()
    click_row(qtbot, page, 1)  # the automatic pause: nothing to acknowledge
    assert not page.ack_button.isEnabled()
    click_row(qtbot, page, 2)
    assert page.ack_button.isEnabled() and page.open_run_button.isEnabled()
    qtbot.keyClicks(page.comment_edit, "disk was full; cleaned")
    qtbot.mouseClick(page.ack_button, Qt.MouseButton.LeftButton)

    row = services.console.get_notice(notices["failed"])
    assert row.acknowledged_by == "ana"
    assert services.console.unacknowledged_failures() == []
    ev = AuditEvent.select().where(AuditEvent.action == "notice.acknowledged").get()
    assert (ev.actor, ev.workflow, ev.run, ev.reason) == (
        "ana",
        "wf-fin",
        5,
        "disk was full; cleaned",
    )
    assert page.selected().id == notices["failed"]  # still selected after the reload
    assert cell(page, 2, "State").startswith("acknowledged by ana ")
    assert not page.ack_button.isEnabled() and page.comment_edit.text() == ""
    assert page.message.text() == "Acknowledged: wf-fin: run 5 failed."


def test_an_acknowledgement_someone_else_made_first_shows_in_place(qtbot, page, notices, services):
    page.refresh()
    click_row(qtbot, page, 2)
    Console(services.console.db, actor="bo").acknowledge_notice(notices["failed"], "mine")
    qtbot.mouseClick(page.ack_button, Qt.MouseButton.LeftButton)
    assert "already acknowledged by bo" in page.message.text()
    assert "c62828" in page.message.styleSheet()
    assert AuditEvent.select().where(AuditEvent.action == "notice.acknowledged").count() == 1
    assert cell(page, 2, "State").startswith("acknowledged by bo ")


def test_open_run_open_inbox_and_enter(qtbot, page, notices, services):
    page.refresh()
    navigator = services.navigator
    click_row(qtbot, page, 2)
    with qtbot.waitSignal(navigator.run_requested) as opened:
        qtbot.mouseClick(page.open_run_button, Qt.MouseButton.LeftButton)
    assert opened.args == [5]
    with qtbot.waitSignal(navigator.page_requested) as opened:
        qtbot.mouseClick(page.open_inbox_button, Qt.MouseButton.LeftButton)
    assert opened.args == [nav.INBOX]

    page.table.setFocus()
    click_row(qtbot, page, 0)  # pending writes: Enter opens the inbox
    assert page.open_run_button.isEnabled()
    with qtbot.waitSignal(navigator.page_requested) as opened:
        qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert opened.args == [nav.INBOX]
    click_row(qtbot, page, 1)  # an automatic pause: Enter opens the workflow
    with qtbot.waitSignal(navigator.workflow_requested) as opened:
        qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert opened.args == ["wf-rep"]


def test_filters_and_mark_all_read(qtbot, page, notices, services):
    page.refresh()
    page.kind_filter.setCurrentIndex(page.kind_filter.findText("Failures"))
    assert [r.id for r in page.model.loaded_rows()] == [notices["failed"]]
    page.kind_filter.setCurrentIndex(0)
    click_row(qtbot, page, 0)
    qtbot.mouseClick(page.unread_only, Qt.MouseButton.LeftButton)
    assert {r.id for r in page.model.loaded_rows()} == {notices["failed"], notices["paused"]}
    with qtbot.waitSignal(page.title_changed) as titled:
        qtbot.mouseClick(page.mark_all_button, Qt.MouseButton.LeftButton)
    assert titled.args == ["Notifications"]
    assert page.model.rowCount() == 0
    assert services.console.unread_notice_count() == 0
    assert page.message.text() == "Marked 2 read."


def test_a_new_notice_appears_while_the_page_is_open(qtbot, page, services):
    page.refresh()
    assert page.model.rowCount() == 0
    note(services.console, "watch_problem", "wf-fin: folder /in is missing", workflow="wf-fin")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    assert cell(page, 0, "Kind") == "not watching"


def test_a_notice_shows_who_was_told_sent_or_failed_and_why(qtbot, services, gui_db):
    from sophmate_desktop.engine.notice_dispatch import NoticeDispatcher
    from tests.support.factories import fail, workflow_yaml
    from tests.support.notices import Webhook

    hook = Webhook().start()
    try:
        text = workflow_yaml("wf-out").replace(
            "notify: {on_failure: [tray]}",
            f'notify: {{on_failure: [tray, "{hook.url()}", "nosuchscheme://x"]}}',
        )
        services.console.import_workflow(text)
        run = fail(gui_db, "wf-out", "disk full")
        page = on_screen(qtbot, NotificationsPage(services), 1000, 600)
        page.refresh()
        click_row(qtbot, page, 0)
        shown = page.deliveries
        qtbot.waitUntil(lambda: "sending…" in shown.text())
        NoticeDispatcher(gui_db, lambda name: "unused").send_due()
        hook.wait_for(1)
        qtbot.waitUntil(lambda: "failed" in shown.text(), timeout=5000)
    finally:
        hook.stop()
    told = shown.text()
    assert f"{hook.url()}</b>: <span style='color:#2e7d32'>sent, 1 attempt" in told
    assert "nosuchscheme://x</b>: <span style='color:#c62828'>failed, 1 attempt" in told
    assert "not an apprise URL" in told
    assert page.selected().run == run.id
