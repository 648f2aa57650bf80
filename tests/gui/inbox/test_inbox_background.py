"""The inbox refreshes in the background: the rows and counts are read on a task
thread and swapped in when they arrive, the selection kept; a refresh that fails says
so in place and is reported."""

from __future__ import annotations

import threading

from sophmate_desktop.domain.events import Event
from tests.support.factories import make_run, make_write
from tests.support.pages import decide, select_ids, shown_ids


class ThreadSpy:
    """Wraps a console method and records the thread each call ran on."""

    def __init__(self, method) -> None:
        self.method = method
        self.threads: list[str] = []

    def __call__(self, *args, **kwargs):
        self.threads.append(threading.current_thread().name)
        return self.method(*args, **kwargs)


def test_an_event_refreshes_off_the_main_thread_and_keeps_the_selection(
    seeded, make_page, gui_db, qtbot, services, monkeypatch
):
    page = make_page()
    keep = seeded.ids["hooks"][1]
    select_ids(page, [keep])
    rows = ThreadSpy(services.console.inbox_rows)
    counts = ThreadSpy(services.console.inbox_count)
    monkeypatch.setattr(services.console, "inbox_rows", rows)
    monkeypatch.setattr(services.console, "inbox_count", counts)
    extra = make_write(gui_db, make_run(gui_db, "hooks"), target="/srv/new.txt")
    with qtbot.waitSignal(page.refreshed, timeout=5000):
        services.events.publish(Event("db.changed", {}))
        assert extra.id not in [r.id for r in page.model.loaded_rows()]  # not yet read
    assert extra.id in [r.id for r in page.model.loaded_rows()]
    assert page.selected_ids() == [keep]
    assert page.filter_bar.count.text() == "7 waiting"
    main = threading.main_thread().name
    assert rows.threads and counts.threads
    assert main not in rows.threads + counts.threads


def test_a_decision_then_the_refresh_run_off_the_main_thread(
    seeded, make_page, qtbot, services, monkeypatch
):

    page = make_page()
    rows = ThreadSpy(services.console.inbox_rows)
    monkeypatch.setattr(services.console, "inbox_rows", rows)
    select_ids(page, [seeded.ids["invoices"][0]])
    decide(qtbot, page, page.decisions.approve)
    assert page.decisions.message.text() == f"Write {seeded.ids['invoices'][0]} approved."
    assert seeded.ids["invoices"][0] not in shown_ids(page)
    assert rows.threads[0] != threading.main_thread().name


def test_a_refresh_that_fails_says_so_and_is_reported(
    seeded, make_page, qtbot, services, monkeypatch, caplog
):
    page = make_page()
    reported = []
    services.tasks.task_failed.connect(lambda what, exc: reported.append(exc))

    def broken(*_args, **_kwargs):
        raise OSError("database disk image is malformed")

    monkeypatch.setattr(services.console, "inbox_count", broken)
    page.refresh()
    qtbot.waitUntil(lambda: page.filter_bar.count.text() == "Could not read the inbox")
    assert page.filter_bar.count.toolTip() == "database disk image is malformed"
    assert [str(e) for e in reported] == ["database disk image is malformed"]
    assert "database disk image is malformed" in caplog.text
    assert shown_ids(page)  # the rows shown before stay


def test_when_a_change_elsewhere_moves_the_current_write_its_preview_is_read_off_the_main_thread(
    seeded, make_page, gui_db, qtbot, services, monkeypatch
):
    page = make_page()
    first = seeded.ids["hooks"][0]
    select_ids(page, [first])
    assert page.preview.row.id == first  # a person's own selection: read at once
    reads = ThreadSpy(services.console.get_write)
    monkeypatch.setattr(services.console, "get_write", reads)
    seeded.lead.reject([first], comment="not needed")  # another person, elsewhere
    with qtbot.waitSignal(page.refreshed, timeout=5000):
        services.events.publish(Event("db.changed", {}))
    current = page.model.row_at(page.table.currentIndex().row())
    assert current.id != first
    qtbot.waitUntil(lambda: page.preview.row is not None and page.preview.row.id == current.id)
    assert reads.threads and threading.main_thread().name not in reads.threads
