"""Fixtures for the workflows page: the page on the `services` of tests/gui, example
workflow files, and finding the dialogs the page opens (they are real dialogs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtWidgets import QWidget

from sophmate_desktop.ui.pages.workflows import WorkflowsPage
from tests.support.gui import on_screen, wait_for_window


@pytest.fixture
def page(qtbot, services) -> Iterator[WorkflowsPage]:
    widget = on_screen(qtbot, WorkflowsPage(services), 1100, 800)
    qtbot.waitExposed(widget)
    widget.refresh()
    yield widget
    assert widget.dry_runner.wait(30), "the dry run's thread did not end"


@pytest.fixture
def console(services):
    return services.console


@pytest.fixture
def db(services):
    return services.console.db


@pytest.fixture
def find_dialog(qtbot) -> Callable[[type], QWidget]:
    """Wait for a visible top-level window of `cls` (the dialog a click opened)."""
    return lambda cls: wait_for_window(qtbot, cls, timeout=3000)
