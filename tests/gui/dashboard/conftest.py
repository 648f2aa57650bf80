"""Dashboard and reviews fixtures: the pages on the `services` of tests/gui/conftest.py,
and records made the way the engine makes them (runs, writes, final failures)."""

from __future__ import annotations

import datetime as dt

import pytest

from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import Run, Workflow, database_proxy
from sophmate_desktop.store.transitions.outcomes import record_final_failure
from sophmate_desktop.ui.pages.dashboard import DashboardPage
from sophmate_desktop.ui.pages.reviews import ReviewsPage
from sophmate_desktop.ui.services import UiServices
from tests.gui.helpers import on_screen
from tests.support.factories import make_run


def finish_at(db, run: Run, at: dt.datetime) -> Run:
    with write_transaction(db):
        Run.update(finished_at=at).where(Run.id == run.id).execute()
    return run


def fail(db, workflow: str, error: str = "boom") -> Run:
    """A run that failed after its last retry: counted, notified, maybe auto-paused."""
    run = make_run(db, workflow, status="failed")
    with write_transaction(db):
        record_final_failure(database_proxy.obj, run.id, error)
    return run


def backdate_workflow(db, name: str, days: int) -> None:
    wf = Workflow.get(Workflow.name == name)
    with write_transaction(db):
        Workflow.update(created_at=wf.created_at - dt.timedelta(days=days)).where(
            Workflow.id == wf.id
        ).execute()


def loaded(qtbot, page) -> None:
    """Ask the page to re-read and wait until it shows the result."""
    with qtbot.waitSignal(page.refreshed, timeout=10_000):
        page.refresh()


@pytest.fixture
def dash(qtbot, services: UiServices) -> DashboardPage:
    return on_screen(qtbot, DashboardPage(services), 1100, 760)


@pytest.fixture
def reviews(qtbot, services: UiServices) -> ReviewsPage:
    return on_screen(qtbot, ReviewsPage(services), 1100, 640)
