"""Dashboard and reviews fixtures: the pages on the `services` of tests/gui/conftest.py,
and records made the way the engine makes them (runs, writes, final failures)."""

from __future__ import annotations

import pytest

from sophmate_desktop.ui.pages.dashboard import DashboardPage
from sophmate_desktop.ui.pages.reviews import ReviewsPage
from sophmate_desktop.ui.services import UiServices
from tests.support.gui import on_screen


@pytest.fixture
def dash(qtbot, services: UiServices) -> DashboardPage:
    return on_screen(qtbot, DashboardPage(services), 1100, 760)


@pytest.fixture
def reviews(qtbot, services: UiServices) -> ReviewsPage:
    return on_screen(qtbot, ReviewsPage(services), 1100, 640)
