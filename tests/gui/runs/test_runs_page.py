"""The runs page as a person uses it: the history (filters in SQL), a run's page with
its plain-language account, timeline, writes and diagnostics, Retry, and the way back."""

from __future__ import annotations

import re
from datetime import timedelta

from PySide6.QtCore import Qt

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.events import Event
from sophmate_desktop.store.models import Run
from sophmate_desktop.ui import navigator as nav
from tests.support.engine import workflow_doc


def shown_ids(page) -> list[int]:
    page.model.fetch_all()
    return [row.id for row in page.model.loaded_rows()]


def double_click(qtbot, view, index) -> None:
    """As a person does it: the first click selects, the second opens."""
    center = view.visualRect(index).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=center)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=center)


def open_with_enter(qtbot, page, run_id: int) -> None:
    assert page.select_run(run_id)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert page.stack.currentWidget() is page.panel


def test_history_lists_runs_newest_first_with_their_figures(page, runs) -> None:
    page.refresh()
    assert shown_ids(page) == [runs.waiting, runs.failed, runs.succeeded]
    row = page.model.row_at(page.model.row_of(runs.succeeded))
    texts = [page.model.index(page.model.row_of(runs.succeeded), c).data() for c in range(9)]
    assert texts[:4] == [str(runs.succeeded), "invoice-intake", "succeeded", "staging"]
    assert texts[5:7] == ["2", "2"]  # writes, affected records
    assert row.status == "succeeded"
    status = page.model.index(page.model.row_of(runs.failed), 2)
    assert status.data(Qt.ItemDataRole.ForegroundRole).name() == "#c62828"


def test_enter_opens_the_run_page_with_its_account(qtbot, page, runs, services) -> None:
    page.refresh()
    open_with_enter(qtbot, page, runs.succeeded)
    shown = " ".join(page.panel.account_view.toPlainText().split())
    expected = services.console.run_account(runs.succeeded)
    assert expected.headline in shown
    for paragraph in expected.paragraphs:
        assert paragraph in shown
    assert "because invoices/acme-17.csv (3.2 kB) arrived in /srv/in" in shown
    assert re.search(r'ana approved 2 at \d\d:\d\d \("totals match"\)', shown)
    timeline = [e.action for e in page.panel.timeline_model.loaded_rows()]
    assert timeline == [e.action for e in services.console.run_timeline(runs.succeeded)]
    assert [w.status for w in page.panel.writes_model.loaded_rows()] == ["applied", "applied"]
    assert page.panel.tabs.tabText(1) == "&Writes (2)"
    assert not page.panel.retry_button.isEnabled()  # only failed runs are retried
    qtbot.keyClick(page.panel.account_view, Qt.Key.Key_Escape)
    assert page.stack.currentWidget() is not page.panel
    assert page.selected_run_id() == runs.succeeded


def test_double_click_opens_a_run_and_shows_its_diagnostics(qtbot, page, runs) -> None:
    page.refresh()
    double_click(qtbot, page.table, page.model.index(page.model.row_of(runs.failed), 1))
    panel = page.panel
    assert panel.run_id == runs.failed
    assert "failed after 3 attempts" in panel.account_view.toPlainText()
    panel.tabs.setCurrentIndex(2)
    assert "Error: input file is not valid text" in panel.error_label.text()
    assert panel.tabs.tabText(2).endswith("⚠")


def test_filters_are_applied_in_sql(qtbot, page, runs) -> None:
    page.refresh()
    bar = page.filter_bar
    bar.set_filters(status="failed")
    assert shown_ids(page) == [runs.failed]
    bar.set_filters(status=None, mode="production")
    assert shown_ids(page) == []
    bar.set_filters(mode="staging", workflow="invoice-intake")
    assert shown_ids(page) == [runs.waiting, runs.failed, runs.succeeded]
    tomorrow = utcnow() + timedelta(days=1)
    bar.dates.set_range(tomorrow, None)
    assert shown_ids(page) == []
    bar.dates.set_range(utcnow() - timedelta(days=1), utcnow())
    assert len(shown_ids(page)) == 3
    qtbot.mouseClick(bar.clear_button, Qt.MouseButton.LeftButton)
    assert bar.filters().status is None and not bar.dates.is_set()
    assert len(shown_ids(page)) == 3


def test_sorting_by_a_column_happens_in_sql(page, runs) -> None:
    page.refresh()
    page.table.sortByColumn(5, Qt.SortOrder.AscendingOrder)  # writes
    assert shown_ids(page)[0] == runs.failed  # no writes
    page.table.sortByColumn(5, Qt.SortOrder.DescendingOrder)
    assert shown_ids(page)[0] == runs.succeeded


def test_retry_of_a_failed_run_queues_a_new_one(qtbot, page, runs, services) -> None:
    page.refresh()
    open_with_enter(qtbot, page, runs.failed)
    panel = page.panel
    assert panel.retry_button.isEnabled()
    qtbot.keyClicks(panel.retry_reason, "fixed the input file")
    qtbot.mouseClick(panel.retry_button, Qt.MouseButton.LeftButton)
    [new] = services.console.runs_page(0, 10, status="queued")
    assert (new.trigger_kind, new.trigger_path) == ("retry", "/srv/in/broken.csv")
    assert f"Run {new.id} queued: a new attempt of run {runs.failed}." in panel.message.text()
    shown = " ".join(panel.account_view.toPlainText().split())
    assert re.search(
        rf'ana retried it at \d\d:\d\d as run {new.id} \("fixed the input file"\)', shown
    )
    qtbot.waitUntil(lambda: page.model.row_of(new.id) is not None)  # the history follows
    with qtbot.waitSignal(services.navigator.run_requested) as opened:
        panel.message.linkActivated.emit(f"run:{new.id}")
    assert opened.args == [new.id]


def test_a_refused_retry_is_explained_in_place(qtbot, page, runs, services) -> None:
    page.refresh()
    open_with_enter(qtbot, page, runs.failed)
    services.console.disable_workflow("invoice-intake")
    qtbot.mouseClick(page.panel.retry_button, Qt.MouseButton.LeftButton)
    assert "invoice-intake is not enabled" in page.panel.message.text()
    assert page.panel.message.property("error") is True
    assert Run.select().count() == 3


def test_pending_write_opens_in_the_inbox(qtbot, page, runs, services) -> None:
    page.refresh()
    open_with_enter(qtbot, page, runs.waiting)
    view = page.panel.writes_view
    [write] = services.console.run_writes(runs.waiting)
    with qtbot.waitSignal(services.navigator.write_requested) as asked:
        double_click(qtbot, view, page.panel.writes_model.index(0, 2))
    assert asked.args == [write.id]


def test_new_runs_appear_when_events_arrive(qtbot, page, runs, services) -> None:
    page.refresh()
    services.console.retry_run(runs.failed)  # as from the CLI in this process
    qtbot.waitUntil(lambda: len(page.model.loaded_rows()) == 4)
    services.events.publish(Event("db.changed", {}))  # another process
    qtbot.waitUntil(lambda: not page._refresh_later.pending)
    assert len(shown_ids(page)) == 4


def test_navigator_show_run_opens_its_page(make_window) -> None:
    from sophmate_desktop.console import Console
    from tests.support.factories import make_run, workflow_yaml

    make_window("seed")  # not a first run: the window opens on the dashboard
    window = make_window("ana")
    db = window.services.console.db
    Console(db, actor="lead").import_workflow(workflow_yaml("wf-one"))
    run = make_run(db, "wf-one", status="queued", mode="dry_run")
    window.services.navigator.show_run(run.id)
    assert window.current_page_key() == nav.RUNS
    runs_page = window.page(nav.RUNS)
    assert runs_page.stack.currentWidget() is runs_page.panel
    assert runs_page.panel.run_id == run.id
    assert f"Run {run.id} of wf-one is queued" in runs_page.panel.account_view.toPlainText()


def test_retried_run_is_picked_up_by_the_engine(qtbot, page, services, gui_db, engine, tmp_path):
    """The engine runs the retry: a dry run that failed on a bad JSON file, fixed."""
    console = services.console
    src = tmp_path / "in.json"
    src.write_text("{not json")
    console.import_workflow(
        workflow_doc("jsons", None, tmp_path / "out", read="json", retry=0, pause=5)
    )
    failed = engine.run_now("jsons", src, mode="dry_run")
    assert engine.wait_for_run(failed, 20) == "failed"
    page.refresh()
    open_with_enter(qtbot, page, failed)
    assert "it could not read its input file" in page.panel.account_view.toPlainText()
    src.write_text('{"ok": true}')
    qtbot.mouseClick(page.panel.retry_button, Qt.MouseButton.LeftButton)
    new = max(r.id for r in console.runs_page(0, 10))
    assert new != failed
    assert engine.wait_for_run(new, 20) == "succeeded", console.get_run(new).error
    page.show_run(new)
    assert "succeeded" in page.panel.account_view.toPlainText().splitlines()[0]
