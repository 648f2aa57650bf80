"""The tray: its state (failure > paused > pending > ok), its menu, and its messages,
which are kept in `messages` where no system tray exists (offscreen)."""

from __future__ import annotations

from sophmate_desktop.ui import navigator as nav
from tests.support.factories import make_run, make_write, note


def test_without_a_system_tray_the_state_menu_and_messages_are_still_kept(tray):
    assert tray.available is False and tray.tray is None
    assert tray.state == "ok"
    texts = [a.text() for a in tray.menu.actions() if not a.isSeparator()]
    assert texts == ["open", "&Inbox", "pause all", "quit"]
    assert tray.messages == []


def test_the_icon_shows_the_worst_state(qtbot, tray, services, two_categories, gui_db):
    console = services.console
    icons = {"ok": tray.icon.cacheKey()}
    run = make_run(gui_db, "wf-fin")
    for seq in (1, 2, 3):
        make_write(gui_db, run, seq=seq)
    note(
        console,
        "writes_pending",
        "3 writes await approval",
        level="info",
        run=run.id,
        group_key="writes_pending",
    )
    qtbot.waitUntil(lambda: tray.state == "pending")
    assert tray.inbox_action.text() == "&Inbox (3)"
    assert "3 writes await approval" in tray.tooltip
    icons["pending"] = tray.icon.cacheKey()

    console.pause_category("reporting", "report server down")
    qtbot.waitUntil(lambda: tray.state == "paused")
    assert "Paused: reporting" in tray.tooltip
    icons["paused"] = tray.icon.cacheKey()

    failed = note(
        console, "run_failed", "wf-fin: run 1 failed", "disk full", workflow="wf-fin", run=run.id
    )
    qtbot.waitUntil(lambda: tray.state == "failure")
    icons["failure"] = tray.icon.cacheKey()
    assert len(set(icons.values())) == 4

    console.acknowledge_notice(failed, "cleaned the disk")
    qtbot.waitUntil(lambda: tray.state == "paused")
    console.resume_category("reporting", "back")
    qtbot.waitUntil(lambda: tray.state == "pending")


def test_a_failed_run_is_one_message_that_opens_the_run(qtbot, tray, services, two_categories):
    note(
        services.console,
        "run_failed",
        "wf-fin: run 7 failed",
        "disk full\nAttempt 2 of 2",
        workflow="wf-fin",
        run=7,
    )
    qtbot.waitUntil(lambda: bool(tray.messages))
    assert tray.messages == [("wf-fin: run 7 failed", "disk full", ("run", 7))]
    with qtbot.waitSignal(services.navigator.run_requested) as opened:
        tray.message_clicked()
    assert opened.args == [7]


def test_several_failures_at_once_make_one_message(qtbot, tray, services, two_categories):
    console = services.console
    with console.transaction():
        for wf, run in (("wf-fin", 1), ("wf-rep", 2), ("wf-fin", 3)):
            console.notify("error", "run_failed", f"{wf}: run {run} failed", workflow=wf, run=run)
    qtbot.waitUntil(lambda: bool(tray.messages))
    assert tray.messages == [("3 runs failed", "wf-fin, wf-rep", ("notifications", None))]
    with qtbot.waitSignal(services.navigator.page_requested) as opened:
        tray.message_clicked()
    assert opened.args == [nav.NOTIFICATIONS]


def test_an_automatic_pause_says_why_and_opens_the_workflow(qtbot, tray, services, two_categories):
    note(
        services.console,
        "auto_paused",
        "wf-fin paused itself: 3 consecutive failed runs",
        "Owner: ops-lead. Review it, then resume it.",
        level="warning",
        workflow="wf-fin",
    )
    qtbot.waitUntil(lambda: bool(tray.messages))
    [(title, body, target)] = tray.messages
    assert target == ("workflow", "wf-fin")
    assert title == "wf-fin paused itself: 3 consecutive failed runs"
    assert body.startswith("Owner: ops-lead")
    with qtbot.waitSignal(services.navigator.workflow_requested) as opened:
        tray.message_clicked()
    assert opened.args == ["wf-fin"]


def test_new_pending_writes_are_batched_into_one_message(
    qtbot, tray, services, two_categories, gui_db
):
    console = services.console
    tray.pending_batch_ms = 1000
    for n in range(1, 4):  # three runs planned writes, one after the other
        run = make_run(gui_db, "wf-fin")
        for seq in range(1, 5):
            make_write(gui_db, run, seq=seq)
        with console.transaction():
            console.notify(
                "info",
                "writes_pending",
                f"{4 * n} writes await approval",
                run=run.id,
                group_key="writes_pending",
            )
        qtbot.waitUntil(lambda: tray._pending_batch.isActive())
    assert tray.messages == []
    qtbot.waitUntil(lambda: bool(tray.messages), timeout=3000)
    assert tray.messages == [
        ("12 writes await approval", "Open the inbox to review them.", ("inbox", None))
    ]
    with qtbot.waitSignal(services.navigator.page_requested) as opened:
        tray.message_clicked()
    assert opened.args == [nav.INBOX]


def test_notices_from_before_the_start_are_not_announced(qtbot, services, two_categories):
    from PySide6.QtGui import QAction

    from sophmate_desktop.ui.tray import TrayController

    note(services.console, "run_failed", "wf-fin: run 1 failed", workflow="wf-fin", run=1)
    open_action = QAction("open")
    opened = []
    open_action.triggered.connect(lambda: opened.append(True))
    tray = TrayController(
        services, open_window=open_action, pause_all=QAction("p"), quit_app=QAction("q")
    )
    try:
        qtbot.waitUntil(lambda: not tray.reading)  # the status is read in the background
        assert tray.state == "failure" and tray.messages == []
        tray.refresh()
        qtbot.waitUntil(lambda: not tray.reading)
        assert tray.messages == []
        note(
            services.console,
            "run_failed",
            "wf-fin: run 2 failed",
            workflow="wf-fin",
            run=2,
            group_key="run_failed:wf-fin",
        )
        qtbot.waitUntil(lambda: bool(tray.messages))
        assert [m[0] for m in tray.messages] == ["wf-fin: run 2 failed"]
        with qtbot.waitSignal(services.navigator.page_requested) as page:
            [inbox] = [a for a in tray.menu.actions() if a.text().startswith("&Inbox")]
            inbox.trigger()
        assert page.args == [nav.INBOX] and opened == [True]
    finally:
        tray.close()
    assert not tray._refresh_later.pending and not tray._pending_batch.isActive()
    note(services.console, "run_failed", "wf-fin: run 3 failed", workflow="wf-fin", run=3)
    tray.refresh()  # closed: reads nothing, announces nothing
    assert len(tray.messages) == 1
