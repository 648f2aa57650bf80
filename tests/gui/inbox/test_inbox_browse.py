"""Finding writes in the inbox: filters, sorting, show_write, refresh on events."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QKeySequence

from sophmate_desktop.domain.events import Event
from sophmate_desktop.ui.widgets.inbox_columns import CUSTOMER_BADGE, CUSTOMER_COLOUR
from tests.support.factories import make_run, make_write, many_writes, workflow_yaml
from tests.support.pages import select_ids, shown_ids


def choose(combo, value) -> None:
    """Pick a filter value as a person does: open the combo, choose the entry."""
    combo.showPopup()  # reaching for it loads the choices
    index = combo.findData(value)
    assert index >= 0, f"{value!r} is not offered"
    combo.setCurrentIndex(index)
    combo.hidePopup()


def test_filters_are_filled_from_the_inbox_and_filter_in_sql(
    seeded, make_page, qtbot, gui_db, services
):
    page = make_page()
    bar = page.filter_bar
    offered = lambda combo: [combo.itemText(i) for i in range(combo.count())]  # noqa: E731
    qtbot.keySequence(page.table, QKeySequence(QKeySequence.StandardKey.Find))
    assert offered(bar.category) == ["Any", "finance", "ops"]
    assert offered(bar.workflow) == ["Any", "hooks", "invoices"]
    assert offered(bar.kind) == ["Any", "http_request", "send_email", "write_file"]
    assert bar.count.text() == "6 waiting"

    choose(bar.category, "finance")
    assert shown_ids(page) == seeded.ids["invoices"]
    qtbot.waitUntil(lambda: bar.count.text() == "4 of 6 waiting")  # counted in the background
    choose(bar.kind, "write_file")
    assert shown_ids(page) == seeded.ids["invoices"][:3]
    choose(bar.kind, None)
    qtbot.mouseClick(bar.customer_facing, Qt.MouseButton.LeftButton)
    assert shown_ids(page) == seeded.ids["invoices"][3:]
    row = page.model.index(0, 6)
    assert page.model.data(row) == CUSTOMER_BADGE
    assert page.model.data(row, Qt.ItemDataRole.ForegroundRole) == CUSTOMER_COLOUR
    qtbot.mouseClick(bar.clear_button, Qt.MouseButton.LeftButton)
    choose(bar.workflow, "hooks")
    assert shown_ids(page) == seeded.ids["hooks"]
    # a new workflow's write is offered once the inbox has refreshed
    seeded.lead.import_workflow(workflow_yaml("payroll", "hr"))
    late = make_write(gui_db, make_run(gui_db, "payroll"), target="/srv/pay.csv")
    with qtbot.waitSignal(page.title_changed, timeout=2000):
        services.events.publish(Event("db.changed", {}))
    qtbot.mouseClick(bar.clear_button, Qt.MouseButton.LeftButton)
    choose(bar.workflow, "payroll")
    assert shown_ids(page) == [late.id]
    assert bar.category.findData("hr") > 0


def test_ctrl_f_focuses_the_filter_bar(seeded, make_page, qtbot):
    page = make_page()
    page.table.setFocus()
    qtbot.keySequence(page.table, QKeySequence(QKeySequence.StandardKey.Find))
    assert page.filter_bar.category.hasFocus()


def test_sorting_by_a_column_happens_in_sql(seeded, make_page, qtbot):
    page = make_page()
    header = page.table.horizontalHeader()
    qtbot.mouseClick(
        header.viewport(),
        Qt.MouseButton.LeftButton,
        pos=QPoint(header.sectionViewportPosition(3) + 5, 5),
    )
    key, descending = page._sort()
    assert key == "target"
    targets = [r.target for r in page.model.loaded_rows()]
    assert targets == sorted(targets, reverse=descending)
    expected = [r.id for r in page.console.inbox_rows(0, 100, "target", descending)]
    assert shown_ids(page) == expected
    page.table.sortByColumn(5, Qt.SortOrder.AscendingOrder)  # age, youngest first
    assert shown_ids(page) == sorted(expected, reverse=True)


def test_show_write_loads_pages_until_it_is_there(seeded, make_page, gui_db, qtbot):
    bulk = many_writes(gui_db, "hooks", 450)
    page = make_page()
    assert page.model.rowCount() == 200
    page.show_write(bulk[420])
    assert page.selected_ids() == [bulk[420]]
    assert page.model.rowCount() >= 427
    assert page.preview.row.id == bulk[420]
    assert page.table.hasFocus()


def test_show_write_clears_filters_that_hide_it(seeded, make_page, qtbot):
    page = make_page()
    choose(page.filter_bar.category, "ops")
    target = seeded.ids["invoices"][1]
    page.show_write(target)
    assert page.filter_bar.category.currentData() is None
    assert page.selected_ids() == [target]


def test_show_write_of_a_decided_write_says_who_decided(seeded, make_page, qtbot):
    decided = seeded.ids["hooks"][0]
    seeded.lead.reject([decided], comment="endpoint retired")
    page = make_page()
    page.show_write(decided)
    assert page.selected_ids() == []
    assert page.preview.row.id == decided
    assert "Rejected by lead" in page.preview.decision.text()
    assert "endpoint retired" in page.preview.decision.text()
    assert f"Write {decided} no longer waits: it is rejected by lead" in (
        page.decisions.message.text()
    )


def test_events_refresh_the_rows_and_the_title(seeded, make_page, gui_db, qtbot, services):
    page = make_page()
    select_ids(page, [seeded.ids["hooks"][1]])
    with qtbot.waitSignal(page.title_changed, timeout=2000) as title:
        services.console.approve([seeded.ids["invoices"][0]])  # e.g. from the CLI in process
    assert title.args == ["Inbox (5)"]
    assert seeded.ids["invoices"][0] not in [r.id for r in page.model.loaded_rows()]
    assert page.selected_ids() == [seeded.ids["hooks"][1]]  # the selection survives
    # a write another process made shows up on the change watcher's "db.changed"
    extra = make_write(gui_db, make_run(gui_db, "hooks"), target="/srv/new.txt")
    with qtbot.waitSignal(page.title_changed, timeout=2000) as title:
        services.events.publish(Event("db.changed", {}))
    assert title.args == ["Inbox (6)"]
    assert extra.id in shown_ids(page)


def test_a_burst_of_events_gives_one_refresh(seeded, make_page, qtbot, services):
    page = make_page()
    titles = []
    page.title_changed.connect(titles.append)
    for _ in range(50):
        services.events.publish(Event("write.finished", {}))
    qtbot.waitUntil(lambda: bool(titles), timeout=2000)
    qtbot.wait(300)  # no second refresh follows (a quiet period, not a wait for a result)
    assert titles == ["Inbox (6)"]
    services.events.publish(Event("review.recorded", {}))
    assert not page._debounce.pending


def test_the_window_shows_the_count_and_opens_a_write_asked_for(make_window, qtbot, sqlite_url):
    from sophmate_desktop.console import Console
    from sophmate_desktop.store.database import open_database
    from sophmate_desktop.ui import navigator as nav

    db = open_database(sqlite_url)
    Console(db, actor="lead").import_workflow(workflow_yaml("invoices", "finance"))
    run = make_run(db, "invoices")
    ids = [make_write(db, run, seq=i, target=f"/srv/{i}.txt").id for i in range(1, 4)]
    db.close()
    window = make_window("ana")
    inbox_item = window.page_list.item(
        next(
            i
            for i in range(window.page_list.count())
            if window.page_list.item(i).data(Qt.ItemDataRole.UserRole) == nav.INBOX
        )
    )
    qtbot.waitUntil(lambda: inbox_item.text() == "Inbox (3)", timeout=2000)
    window.services.navigator.show_write(ids[2])
    assert window.current_page_key() == nav.INBOX
    page = window.page(nav.INBOX)
    assert page.selected_ids() == [ids[2]]
    assert page.preview.row.id == ids[2]
