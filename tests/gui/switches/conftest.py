"""Kill-switch, tray and notification-centre fixtures: the widgets on the `services`
of tests/gui/conftest.py, workflows in two categories, notices as the engine records
them, and a real engine behind the main window where a flow needs one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QWidget

from sophmate_desktop.console import Console
from sophmate_desktop.ui.killswitch_panel import KillSwitchPanel, PausedBanner
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.tray import TrayController
from sophmate_desktop.ui.widgets.switch_dialogs import SwitchDialog
from tests.engine.conftest import workflow_doc
from tests.gui.helpers import on_screen
from tests.support.factories import workflow_yaml


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
def tray(qtbot, services: UiServices) -> TrayController:
    host = QWidget()
    qtbot.addWidget(host)
    actions = {name: QAction(name, host) for name in ("open", "pause all", "quit")}
    controller = TrayController(
        services,
        open_window=actions["open"],
        pause_all=actions["pause all"],
        quit_app=actions["quit"],
        parent=host,
    )
    yield controller
    controller.close()


def open_dialog(qtbot, panel: KillSwitchPanel, scope: str, name: str) -> SwitchDialog:
    """Click a switch the way a person does and return the dialog it opens."""
    button = panel.switch_button(scope, name)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible())
    return panel.dialog


def submit(qtbot, dialog: SwitchDialog, reason: str, held: str | None = None) -> None:
    dialog.reason_edit.setFocus()
    qtbot.keyClicks(dialog.reason_edit, reason)
    if held is not None:
        choice = dialog.held_buttons[held]  # click its circle, as a person does
        qtbot.mouseClick(choice, Qt.MouseButton.LeftButton, pos=QPoint(8, choice.height() // 2))
    assert dialog.ok_button.isEnabled()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)


def active_dialog() -> QWidget | None:
    return QApplication.activeModalWidget()


@pytest.fixture
def watched_workflow(watched_folder: Path, tmp_path: Path) -> Callable[..., None]:
    """watched_workflow(console, name, **kw): an enabled dry-run workflow in finance
    that watches `watched_folder` (*.txt unless told otherwise)."""

    def make(console: Console, name: str = "intake", **kw) -> None:
        console.import_workflow(workflow_doc(name, watched_folder, tmp_path / f"out-{name}", **kw))
        console.enable_workflow(name)

    return make
