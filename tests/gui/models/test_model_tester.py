"""Every lazy table model passes Qt's model tester on a real database: first pages,
the pages fetched as the view scrolls, sorting, refreshes and filters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QWidget

from sophmate_desktop.ui.models.base import LazyTableModel
from sophmate_desktop.ui.pages.audit import AuditPage
from sophmate_desktop.ui.pages.inbox import PAGE_SIZE, InboxPage
from sophmate_desktop.ui.pages.notifications import NotificationsPage
from sophmate_desktop.ui.pages.reviews import ReviewsPage
from sophmate_desktop.ui.pages.runs import RunsPage
from sophmate_desktop.ui.pages.workflows import WorkflowsPage
from sophmate_desktop.ui.widgets.run_panel import RunPanel
from tests.support.seed import SeededDb, seed_every_page

W = TypeVar("W", bound=QWidget)


@pytest.fixture
def seeded(gui_db) -> SeededDb:
    return seed_every_page(gui_db)


@pytest.fixture
def show(qtbot) -> Iterator[Callable[[W], W]]:
    """show(widget) puts it on screen until the test's end. Ask for this fixture
    before qtmodeltester: its models must outlive the tester's teardown (qtbot
    deletes the widgets it was given before any fixture is torn down)."""
    shown: list[QWidget] = []

    def put(widget: W) -> W:
        shown.append(widget)
        widget.resize(1200, 700)
        widget.show()
        return widget

    yield put
    for widget in shown:
        widget.close()
        widget.deleteLater()


def check(qtmodeltester, model: LazyTableModel) -> None:
    """Qt's C++ tester and pytest-qt's own, then every page and every sortable column
    while both watch the signals."""
    qtmodeltester.check(model)
    qtmodeltester.check(model, force_py=True)
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    for column in range(model.columnCount()):
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            model.sort(column, order)
    model.reload()


def test_the_inbox_model(qtbot, show, qtmodeltester, services, seeded):
    page = show(InboxPage(services))
    qtbot.waitUntil(lambda: not page.refreshing)
    assert page.model.rowCount() == PAGE_SIZE
    check(qtmodeltester, page.model)
    assert page.model.rowCount() == PAGE_SIZE  # reloaded: the first page again
    with qtbot.waitSignal(page.refreshed):
        page.refresh()  # rows read in the background swapped in under the tester
    page.model.fetch_all()
    assert page.model.rowCount() == seeded.pending_writes


def test_the_runs_model(qtbot, show, qtmodeltester, services, seeded):
    page = show(RunsPage(services))
    page.refresh()
    assert page.model.rowCount() >= 4
    check(qtmodeltester, page.model)


def test_the_audit_model(qtbot, show, qtmodeltester, services, seeded):
    page = show(AuditPage(services))
    page.refresh()
    assert page.model.rowCount() > 0
    check(qtmodeltester, page.model)


def test_the_workflows_model(qtbot, show, qtmodeltester, services, seeded):
    page = show(WorkflowsPage(services))
    page.refresh()
    assert page.model.rowCount() == 2
    check(qtmodeltester, page.model)


def test_the_notices_model(qtbot, show, qtmodeltester, services, seeded):
    page = show(NotificationsPage(services))
    page.refresh()
    assert page.model.rowCount() >= 2
    check(qtmodeltester, page.model)
    page.model.mark_read_here([row.id for row in page.model.loaded_rows()])


@pytest.mark.parametrize("name", ["due_model", "escalation_model", "runs_model"])
def test_the_review_models(qtbot, show, qtmodeltester, services, seeded, name):
    page = show(ReviewsPage(services))
    model = getattr(page, name)
    qtmodeltester.check(model)
    with qtbot.waitSignal(page.refreshed, timeout=10_000):
        page.refresh()
    check(qtmodeltester, model)


@pytest.mark.parametrize("name", ["timeline_model", "writes_model"])
def test_the_run_page_models(qtbot, show, qtmodeltester, services, seeded, name):
    panel = show(RunPanel(services))
    model = getattr(panel, name)
    qtmodeltester.check(model)
    panel.show_run(seeded.waiting_run)  # its writes, and its timeline: a rejection
    assert model.rowCount() > 0
    check(qtmodeltester, model)
