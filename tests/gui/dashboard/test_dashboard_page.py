"""The dashboard as a person sees it: tiles, chart, escalations, health, failures."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import AuditEvent, Workflow
from sophmate_desktop.ui import navigator as nav
from sophmate_desktop.ui.widgets.dash_chart import FAILED_COLOUR, SUCCEEDED_COLOUR
from tests.support.factories import fail, finish_at, make_run, make_write, workflow_yaml
from tests.support.pages import loaded

DAY = dt.timedelta(days=1)


def close_to(colour: QColor, wanted: QColor) -> bool:
    return all(
        abs(a - b) < 20 for a, b in zip(colour.getRgb()[:3], wanted.getRgb()[:3], strict=True)
    )


def cell_texts(table) -> list[list[str]]:
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def double_click_row(qtbot, table, row: int) -> None:
    rect = table.visualItemRect(table.item(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_tiles_and_chart_show_real_runs_and_writes(qtbot, services, dash) -> None:
    console, db = services.console, services.console.db
    console.import_workflow(workflow_yaml("wf-fin", "finance"))
    console.import_workflow(workflow_yaml("wf-ops", "ops"))
    run = make_run(db, "wf-fin")
    make_write(db, run, seq=1)
    make_write(db, run, seq=2)
    make_write(db, run, seq=3, status="interrupted")
    fail(db, "wf-fin")
    finish_at(db, fail(db, "wf-ops"), utcnow() - 3 * DAY)
    for _ in range(3):
        make_run(db, "wf-ops", status="succeeded")
    finish_at(db, make_run(db, "wf-ops", status="succeeded"), utcnow() - 5 * DAY)
    make_run(db, "wf-ops", status="held")
    make_run(db, "wf-ops", status="held")
    console.pause_category("finance", reason="quarter close")

    loaded(qtbot, dash)
    assert dash.pending_tile.count_text() == "2"
    assert "1 interrupted write" in dash.pending_tile.detail.text()
    assert dash.failed_tile.count_text() == "1" and dash.failed_tile.property("alert")
    assert dash.held_tile.count_text() == "2"
    assert dash.paused_tile.count_text() == "1"
    assert dash.paused_tile.detail.text() == "finance"

    days = dash.chart.days()
    assert len(days) == 14 and days[-1].day == utcnow().date()
    assert (days[-1].succeeded, days[-1].failed) == (3, 1)
    assert (days[-4].succeeded, days[-4].failed) == (0, 1)
    assert (days[-6].succeeded, days[-6].failed) == (1, 0)
    assert sum(d.succeeded + d.failed for d in days) == 6

    image = dash.chart.grab().toImage()
    ratio = image.devicePixelRatio()
    ok, failed = dash.chart.bar_rects(13)
    assert ok.height() > failed.height() > 0  # 3 succeeded below 1 failed

    def pixel(rect) -> QColor:
        return image.pixelColor(
            QPoint(int(rect.center().x() * ratio), int(rect.center().y() * ratio))
        )

    assert close_to(pixel(ok), SUCCEEDED_COLOUR)
    assert close_to(pixel(failed), FAILED_COLOUR)
    empty_ok, empty_failed = dash.chart.bar_rects(0)
    assert empty_ok.height() == 0 and empty_failed.height() == 0


def test_escalations_show_their_reasons_and_open_the_workflow(qtbot, services, dash) -> None:
    console, db = services.console, services.console.db
    console.import_workflow(workflow_yaml("wf-prod", "finance", owner=""))
    console.import_workflow(workflow_yaml("wf-calm", "finance"))
    with write_transaction(db):
        Workflow.update(stage="production").where(Workflow.name == "wf-prod").execute()
    fail(db, "wf-prod")
    fail(db, "wf-prod")

    loaded(qtbot, dash)
    rows = cell_texts(dash.escalations)
    assert [r[0] for r in rows] == ["wf-prod"]
    assert rows[0][2] == (
        "writes production data; failed 2 runs in a row (pauses itself at 3); has no visible owner"
    )
    with qtbot.waitSignal(services.navigator.workflow_requested) as opened:
        double_click_row(qtbot, dash.escalations, 0)
    assert opened.args == ["wf-prod"]
    with qtbot.waitSignal(services.navigator.workflow_requested) as opened:
        qtbot.keyClick(dash.escalations, Qt.Key.Key_Return)
    assert opened.args == ["wf-prod"]


def test_reviews_due_and_category_health_are_listed(qtbot, services, dash) -> None:
    console, db = services.console, services.console.db
    console.import_workflow(workflow_yaml("wf-fin", "finance"))
    console.import_workflow(workflow_yaml("wf-rep", "reporting"))
    fail(db, "wf-fin")
    make_run(db, "wf-fin", status="succeeded")
    make_run(db, "wf-rep", status="succeeded")

    loaded(qtbot, dash)
    reasons = {tuple(r[:2]) for r in cell_texts(dash.reviews)}
    assert ("wf-fin", "the first run has not been reviewed") in reasons
    assert any(w == "wf-fin" and "a run failed at" in why for w, why in reasons)
    health = {r[0]: r for r in cell_texts(dash.health)}
    assert health["finance"][1:5] == ["2", "1", "0", "0"]
    assert dash.health.item(0, 0).toolTip() == "finance: red — 1 of 2 runs failed in 24 h"
    assert health["reporting"][5] == "ok"
    assert "green" in dash.health.item(1, 0).toolTip()
    with qtbot.waitSignal(services.navigator.page_requested) as shown:
        double_click_row(qtbot, dash.reviews, 0)
    assert shown.args == [nav.REVIEWS]


def test_clicking_tiles_navigates(qtbot, services, dash) -> None:
    loaded(qtbot, dash)
    for tile, page in [
        (dash.pending_tile, nav.INBOX),
        (dash.failed_tile, nav.RUNS),
        (dash.held_tile, nav.RUNS),
    ]:
        with qtbot.waitSignal(services.navigator.page_requested) as shown:
            qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)
        assert shown.args == [page]
    dash.pending_tile.setFocus()
    with qtbot.waitSignal(services.navigator.page_requested) as shown:
        qtbot.keyClick(dash.pending_tile, Qt.Key.Key_Space)
    assert shown.args == [nav.INBOX]


def test_acknowledging_a_failure_removes_it_and_is_audited(qtbot, services, dash) -> None:
    console, db = services.console, services.console.db
    console.import_workflow(workflow_yaml("wf-fin", "finance"))
    run = fail(db, "wf-fin", error="disk full")

    loaded(qtbot, dash)
    assert dash.failures_box.isVisibleTo(dash)
    assert [r[1:] for r in cell_texts(dash.failures)] == [
        ["wf-fin", f"wf-fin: run {run.id} failed"]
    ]
    assert not dash.acknowledge_button.isEnabled()
    dash.failures.selectRow(0)
    with qtbot.waitSignal(services.navigator.run_requested) as opened:
        qtbot.mouseClick(dash.open_run_button, Qt.MouseButton.LeftButton)
    assert opened.args == [run.id]

    with qtbot.waitSignal(dash.refreshed, timeout=10_000):
        qtbot.mouseClick(dash.acknowledge_button, Qt.MouseButton.LeftButton)
    assert dash.failures.rowCount() == 0
    assert console.unacknowledged_failures() == []
    [event] = AuditEvent.select().where(AuditEvent.action == "notice.acknowledged")
    assert (event.actor, event.workflow, event.run) == ("ana", "wf-fin", run.id)


def test_a_pause_elsewhere_refreshes_the_tiles(qtbot, services, dash) -> None:
    services.console.import_workflow(workflow_yaml("wf-fin", "finance"))
    loaded(qtbot, dash)
    assert dash.paused_tile.count_text() == "0"
    with qtbot.waitSignal(dash.refreshed, timeout=10_000):
        services.console.pause_all("hosting incident")  # the event reaches the page
    assert dash.paused_tile.count_text() == "1"
    assert dash.paused_tile.detail.text() == "everything"
    assert [r[5] for r in cell_texts(dash.health)] == ["all automation is paused"]


def test_in_the_window_a_tile_opens_the_inbox(qtbot, make_window) -> None:
    make_window("seed")  # the database exists now: the window opens on the dashboard
    window = make_window("ana")
    window.show()
    page = window.page(nav.DASHBOARD)
    assert window.current_page_key() == nav.DASHBOARD
    qtbot.waitUntil(lambda: page.data is not None, timeout=10_000)
    qtbot.mouseClick(page.pending_tile, Qt.MouseButton.LeftButton)
    assert window.current_page_key() == nav.INBOX


def test_in_the_window_held_runs_lead_to_the_paused_switch(qtbot, make_window) -> None:
    make_window("seed")
    window = make_window("ana")
    console = window.services.console
    console.import_workflow(workflow_yaml("wf-fin", "finance"))
    make_run(console.db, "wf-fin", status="queued")
    console.pause_category("finance", reason="quarter close")  # the queued run is held now
    window.show()
    page = window.page(nav.DASHBOARD)
    qtbot.waitUntil(lambda: page.held_tile.count_text() == "1", timeout=10_000)
    panel = window.kill_switch_panel
    key = ("category", "finance")
    qtbot.waitUntil(lambda: key in panel.buttons and panel.buttons[key].isChecked(), timeout=10_000)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)

    def to_finance(_old, new) -> bool:  # the panel may rebuild its buttons meanwhile
        return new is not None and new.objectName() == "switch-category-finance"

    with qtbot.waitSignal(QApplication.instance().focusChanged, check_params_cb=to_finance):
        qtbot.mouseClick(page.held_tile, Qt.MouseButton.LeftButton)
    assert window.current_page_key() == nav.DASHBOARD
