"""Fixtures for the workflows page: the page on the `services` of tests/gui, example
workflow files, and finding the dialogs the page opens (they are real dialogs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QWidget

import sophmate_desktop.resources
from sophmate_desktop.ui.pages.workflows import WorkflowsPage

EXAMPLES = Path(sophmate_desktop.resources.__file__).parent / "workflows"


@pytest.fixture
def page(qtbot, services) -> Iterator[WorkflowsPage]:
    widget = WorkflowsPage(services)
    qtbot.addWidget(widget)
    widget.resize(1100, 800)
    widget.show()
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

    def find(cls: type) -> QWidget:
        found: list[QWidget] = []

        def visible() -> bool:
            found[:] = [
                w for w in QApplication.topLevelWidgets() if isinstance(w, cls) and w.isVisible()
            ]
            return bool(found)

        qtbot.waitUntil(visible, timeout=3000)
        return found[-1]

    return find
