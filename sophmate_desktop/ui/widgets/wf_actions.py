"""The workflows page's actions (each with its shortcut, working anywhere inside
the page) and the toolbar buttons that trigger them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QPushButton, QWidget

from sophmate_desktop.ui.translation import translate


def page_action(
    page: QWidget, text: str, tip: str, slot: Callable[[], object], shortcut: str | None = None
) -> QAction:
    """An action of the page: its shortcut works anywhere inside the page."""
    action = QAction(text, page)
    action.setToolTip(tip)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    action.triggered.connect(slot)
    page.addAction(action)
    return action


def build_actions(page: Any) -> None:
    """The page's actions, as attributes of the page (new_action, import_action, …)."""
    page.new_action = page_action(
        page,
        translate("sophmate", "New"),
        translate("sophmate", "A new workflow"),
        page.new_workflow,
        "Ctrl+N",
    )
    page.import_action = page_action(
        page,
        translate("sophmate", "Import…"),
        translate("sophmate", "Import a workflow file"),
        page.import_workflow,
        "Ctrl+O",
    )
    page.export_action = page_action(
        page,
        translate("sophmate", "Export…"),
        translate("sophmate", "Save the workflow as a YAML file"),
        page.export_workflow,
        "Ctrl+E",
    )
    page.enable_action = page_action(
        page,
        translate("sophmate", "Enable"),
        translate("sophmate", "Let its trigger start runs"),
        page.enable_workflow,
        "Ctrl+Shift+E",
    )
    page.disable_action = page_action(
        page,
        translate("sophmate", "Disable…"),
        translate("sophmate", "Stop its trigger (asks a reason)"),
        page.disable_workflow,
        "Ctrl+Shift+D",
    )
    page.pause_action = page_action(
        page,
        translate("sophmate", "Pause…"),
        translate("sophmate", "Its own kill switch: pause or resume it (asks a reason)"),
        page.toggle_pause,
    )
    page.promote_action = page_action(
        page,
        translate("sophmate", "Promote…"),
        translate("sophmate", "Move it to the next stage"),
        page.promote_workflow,
        "Ctrl+Shift+U",
    )
    page.dry_run_action = page_action(
        page,
        translate("sophmate", "Dry run on a file…"),
        translate("sophmate", "Plan a run on a file; nothing is written"),
        page.dry_run,
    )
    page.last_run_action = page_action(
        page,
        translate("sophmate", "Last run"),
        translate("sophmate", "Open its newest run: what happened, in plain words"),
        page.open_last_run,
        "Ctrl+L",
    )
    page_action(page, translate("sophmate", "Filter"), "", page._focus_search, "Ctrl+F")


def action_button(action: QAction, name: str, text: str) -> QPushButton:
    """A toolbar button that triggers `action` and follows whether it is enabled."""
    button = QPushButton(text)
    button.setObjectName(name)
    shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    button.setToolTip(f"{action.toolTip()} ({shortcut})" if shortcut else action.toolTip())
    button.clicked.connect(action.trigger)
    action.enabledChanged.connect(button.setEnabled)
    button.setEnabled(action.isEnabled())
    return button
