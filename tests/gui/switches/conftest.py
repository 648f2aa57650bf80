"""Kill-switch, tray and notification-centre fixtures: the widgets on the `services`
of tests/gui/conftest.py, workflows in two categories, notices as the engine records
them, and a real engine behind the main window where a flow needs one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from sophmate_desktop.console import Console
from sophmate_desktop.ui.killswitch_panel import KillSwitchPanel, PausedBanner
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.tray import TrayController
from tests.support.engine import workflow_doc
from tests.support.factories import workflow_yaml
from tests.support.gui import on_screen


@pytest.fixture
def two_categories(services: UiServices) -> Console:
    """wf-fin (finance) and wf-rep (reporting), imported by "lead"."""
    lead = Console(services.console.db, actor="lead")
    lead.import_workflow(workflow_yaml("wf-fin", "finance"))
    lead.import_workflow(workflow_yaml("wf-rep", "reporting"))
    return lead


@pytest.fixture
def panel(qtbot, services: UiServices, two_categories) -> KillSwitchPanel:
    return on_screen(qtbot, KillSwitchPanel(services), 1000, 80)


@pytest.fixture
def banner(qtbot, services: UiServices, two_categories) -> PausedBanner:
    widget = PausedBanner(services)
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def make_tray(qtbot, services: UiServices) -> Iterator[Callable[[], TrayController]]:
    """make_tray(): a TrayController on `services`, closed at teardown."""
    made: list[TrayController] = []
    hosts: list[QWidget] = []  # kept: a host Python no longer holds is deleted

    def make() -> TrayController:
        host = QWidget()
        hosts.append(host)
        qtbot.addWidget(host)
        actions = {name: QAction(name, host) for name in ("open", "pause all", "quit")}
        controller = TrayController(
            services,
            open_window=actions["open"],
            pause_all=actions["pause all"],
            quit_app=actions["quit"],
            parent=host,
        )
        made.append(controller)
        return controller

    yield make
    for controller in made:
        controller.close()


@pytest.fixture
def tray(make_tray) -> TrayController:
    return make_tray()


@pytest.fixture
def watched_workflow(watched_folder: Path, tmp_path: Path) -> Callable[..., None]:
    """watched_workflow(console, name, **kw): an enabled dry-run workflow in finance
    that watches `watched_folder` (*.txt unless told otherwise)."""

    def make(console: Console, name: str = "intake", **kw) -> None:
        console.import_workflow(workflow_doc(name, watched_folder, tmp_path / f"out-{name}", **kw))
        console.enable_workflow(name)

    return make
