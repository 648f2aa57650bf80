"""The audit page as a person uses it: filters done in SQL (the model holds only the
matching rows), a date range, Verify (intact, then broken after a raw edit), Export,
and an event's details with a way to its run."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from sophmate_desktop.store import audit
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import AuditEvent
from sophmate_desktop.ui.pages.audit import PAGE_SIZE, AuditPage
from tests.support.gui import on_screen


def ev(actor: str, action: str, at: datetime | None = None, **kw) -> audit.NewEvent:
    return audit.NewEvent(actor=actor, action=action, at=at, **kw)


@pytest.fixture
def trail(gui_db) -> list[int]:
    """Events by ana, bo and the engine; three of them dated in January 2026."""
    events = [
        ev("ana", "category.paused", datetime(2026, 1, 5, 9), subject="finance",
           category="finance"),
        ev("bo", "write.approved", datetime(2026, 1, 10, 12), subject="write 1", run=7,
           workflow="invoices", category="finance", details={"kind": "send_email"}),
        ev("bo", "write.rejected", datetime(2026, 1, 20, 8), subject="write 2", run=7,
           workflow="invoices", category="finance", reason="wrong supplier"),
        ev("engine", "run.started", subject="run 8", run=8, workflow="hooks", category="ops"),
        ev("ana", "write.approved", subject="write 3", run=8, workflow="hooks", category="ops"),
    ]  # fmt: skip
    with write_transaction(gui_db):
        return audit.append_many(gui_db, events)


@pytest.fixture
def page(qtbot, services) -> AuditPage:
    return on_screen(qtbot, AuditPage(services), 1280, 700)


def rows(page: AuditPage) -> list:
    page.model.fetch_all()
    return page.model.loaded_rows()


def test_all_events_newest_first(page, trail) -> None:
    page.refresh()
    assert [r.id for r in rows(page)] == sorted(trail, reverse=True)
    assert page.table.objectName() == "auditTable"


def test_filter_by_actor_typed_then_by_action(qtbot, page, trail) -> None:
    page.refresh()
    actor = page.filter_bar.actor
    actor.lineEdit().selectAll()
    qtbot.keyClicks(actor.lineEdit(), "bo")
    qtbot.keyClick(actor.lineEdit(), Qt.Key.Key_Return)
    assert {(r.actor, r.action) for r in rows(page)} == {
        ("bo", "write.approved"),
        ("bo", "write.rejected"),
    }
    page.filter_bar.set_filters(action="write.approved")
    assert [(r.actor, r.action) for r in rows(page)] == [("bo", "write.approved")]
    page.filter_bar.set_filters(actor=None, action="write.*")
    assert [r.action for r in rows(page)] == ["write.approved", "write.rejected", "write.approved"]
    page.filter_bar.set_filters(action=None, workflow="hooks")
    assert {r.workflow for r in rows(page)} == {"hooks"} and len(rows(page)) == 2
    page.filter_bar.set_filters(workflow=None, category="finance")
    assert {r.category for r in rows(page)} == {"finance"} and len(rows(page)) == 3
    qtbot.mouseClick(page.filter_bar.clear_button, Qt.MouseButton.LeftButton)
    assert len(rows(page)) == len(trail)


def test_date_range_filter(qtbot, page, trail) -> None:
    page.refresh()
    dates = page.filter_bar.dates
    dates.set_range(datetime(2026, 1, 8), datetime(2026, 1, 12))
    assert [r.action for r in rows(page)] == ["write.approved"]
    assert rows(page)[0].at.startswith("2026-01-10")
    dates.to_check.setChecked(False)  # from Jan 8 on: two dated events and today's
    assert [r.id for r in rows(page)] == [trail[4], trail[3], trail[2], trail[1]]
    dates.from_check.setChecked(False)
    dates.to_check.setChecked(True)
    dates.to_edit.setDate(dates.to_edit.date().fromString("2026-01-05", "yyyy-MM-dd"))
    assert [r.action for r in rows(page)] == ["category.paused"]


def test_verify_shows_intact_then_broken_after_tampering(qtbot, page, trail, gui_db) -> None:
    page.refresh()
    with qtbot.waitSignal(page.verify_finished, timeout=10_000) as done:
        qtbot.mouseClick(page.verify_button, Qt.MouseButton.LeftButton)
        assert not page.verify_button.isEnabled()  # busy while it runs
    assert done.args == [True]
    assert page.verify_result.text() == f"Chain intact: {len(trail)} events"
    assert page.verify_button.isEnabled()
    gui_db.execute_sql("UPDATE audit_event SET reason = 'nothing wrong' WHERE id = ?", (trail[2],))
    with qtbot.waitSignal(page.verify_finished, timeout=10_000) as done:
        qtbot.mouseClick(page.verify_button, Qt.MouseButton.LeftButton)
    assert done.args == [False]
    shown = page.verify_result.text()
    assert shown.startswith("NOT intact")
    assert f"edited: event {trail[2]}: its content does not match its hash" in shown
    assert page.verify_result.property("badge") == "failed"


def test_export_writes_the_filtered_events_to_the_chosen_file(qtbot, page, trail, tmp_path):
    page.refresh()
    page.filter_bar.set_filters(actor="bo")
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    dialog = page.export_dialog
    assert dialog is not None and dialog.isVisible()
    target = tmp_path / "compliance.csv"
    dialog.selectFile(str(target))
    with qtbot.waitSignal(page.export_finished, timeout=10_000) as done:
        dialog.accept()
    assert done.args == [True]
    with open(target, newline="", encoding="utf-8") as fh:
        exported = list(csv.DictReader(fh))
    assert [(r["actor"], r["action"]) for r in exported] == [
        ("bo", "write.approved"),
        ("bo", "write.rejected"),
    ]
    assert page.export_result.text() == f"Exported 2 events to {target}"
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)  # opens where it saved
    assert Path(page.export_dialog.directory().absolutePath()) == tmp_path
    page.export_dialog.reject()
    jsonl = tmp_path / "all.jsonl"
    page.filter_bar.clear()
    with qtbot.waitSignal(page.export_finished, timeout=10_000):
        page.export_to(str(jsonl))
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [line["id"] for line in lines] == trail


def test_selected_event_shows_its_details_and_opens_its_run(qtbot, page, trail, services):
    services.console.set_secret("api_token", "s3cret-VALUE-42")  # a value this process knows
    with write_transaction(services.console.db):
        [leaky] = audit.append_many(
            services.console.db,
            [ev("bo", "connection.changed", details={"note": "token s3cret-VALUE-42"}, run=8)],
        )
    page.refresh()
    page.select_event(trail[1])
    text = page.details.text.toPlainText()
    assert f"Event {trail[1]} at 2026-01-10T12:00:00.000000Z" in text
    assert '"kind": "send_email"' in text
    assert page.details.open_run_button.isVisible()
    with qtbot.waitSignal(services.navigator.run_requested) as asked:
        qtbot.mouseClick(page.details.open_run_button, Qt.MouseButton.LeftButton)
    assert asked.args == [7]
    page.select_event(trail[0])  # no run
    assert not page.details.open_run_button.isVisible()
    page.select_event(leaky)
    assert "s3cret-VALUE-42" not in page.details.text.toPlainText()
    assert "token ********" in page.details.text.toPlainText()


def test_many_events_open_on_the_first_page_and_scroll_by_id(qtbot, page, gui_db) -> None:
    with write_transaction(gui_db):
        ids = audit.append_many(
            gui_db, (ev("engine", "run.started", run=i) for i in range(1, 1201))
        )
    page.refresh()
    assert page.model.rowCount() == PAGE_SIZE  # first page only, nothing counted
    assert page.model.canFetchMore()
    page.table.scrollToBottom()
    qtbot.waitUntil(lambda: page.model.rowCount() > PAGE_SIZE)
    loaded = [r.id for r in rows(page)]
    assert loaded == sorted(ids, reverse=True)  # keyset pages continue exactly
    assert AuditEvent.select().count() == 1200


def test_new_events_reload_the_top_of_the_table(qtbot, page, trail, services) -> None:
    page.refresh()
    services.console.pause_all("maintenance")  # audited: global.paused
    qtbot.waitUntil(lambda: page.model.row_at(0).action == "global.paused")
