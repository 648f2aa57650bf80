"""Helpers for journeys 2 (an approver clears the inbox) and 3 (Friday afternoon):
workflow files over the test's folders, and driving the main window with keys and
clicks the way a person does (the `mailbox` SMTP server is a fixture in
tests/gui/journeys/conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QApplication, QWidget

from sophmate_desktop.console import Console
from sophmate_desktop.ui.main_window import MainWindow
from tests.support.engine import to_staging
from tests.support.gui import WAIT_MS

# Workflow files --------------------------------------------------------------------

WORKFLOW = """\
name: {name}
category: {category}
owner: ops-lead
description: {description}
trigger: {trigger}
input: {{read: {read}, max_bytes: 1000000}}
output: {{paths: [{out}], staging_paths: [{out}]}}
steps:
{steps}
approval: {{mode: always}}
retry: {{limit: {retry}, backoff_s: 0}}
notify: {{on_failure: [tray]}}
pause: {{consecutive_failures: {failures}, on_provider_change: true}}
rollback: Undo what the run's writes list.
"""


def workflow_file(
    name: str,
    category: str,
    out: Path,
    steps: str,
    *,
    folder: Path | None = None,
    patterns: tuple[str, ...] = ("*.txt",),
    read: str = "text",
    retry: int = 0,
    failures: int = 3,
    description: str = "A journey workflow.",
) -> str:
    """A complete (enable-able) workflow: watching `folder`, or started by hand."""
    if folder is None:
        trigger = "{manual: true}"
    else:
        trigger = json.dumps({"folder": str(folder), "patterns": list(patterns), "settle_ms": 100})
    return WORKFLOW.format(
        name=name,
        category=category,
        description=description,
        trigger=trigger,
        read=read,
        out=json.dumps(str(out)),
        steps=steps.rstrip("\n"),
        retry=retry,
        failures=failures,
    )


def write_step(to: str, content: str) -> str:
    return f"  - action: write_file\n    to: {json.dumps(to)}\n    content: {json.dumps(content)}\n"


def email_step(connection: str) -> str:
    """One customer-facing e-mail per CSV row (a supplier's receipt)."""
    return (
        "  - action: send_email\n"
        f"    connection: {connection}\n"
        "    for_each: rows\n"
        '    to: "{{ row.email }}"\n'
        '    subject: "Invoice {{ row.number }} received"\n'
        '    body: "Dear {{ row.supplier }},\\nwe received invoice {{ row.number }} '
        'over {{ row.amount }} EUR."\n'
        "    customer_facing: true\n"
    )


def command_step(argv: list[str]) -> str:
    return f"  - action: run_command\n    argv: {json.dumps(argv)}\n    timeout_s: 60\n"


def staged(console: Console, window: MainWindow, name: str, sample: Path) -> None:
    """A reviewed dry run on `sample`, promoted to staging and enabled (by `console`)."""
    assert window.services.engine is not None
    to_staging(console, window.services.engine, name, sample)


# Driving the window ------------------------------------------------------------------


def shown(qtbot, window: MainWindow) -> None:
    """The window on screen and active: shortcuts and focus work as for a person.

    Also after a dialog closed: offscreen, no window manager hands the activation
    back to the main window, as a desktop does."""
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT_MS)


def keys(qtbot, widget: QWidget, key: Qt.Key, *modifiers: Qt.KeyboardModifier) -> None:
    mods = Qt.KeyboardModifier.NoModifier
    for m in modifiers:
        mods |= m
    qtbot.keyClick(widget, key, mods)


CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def go_to(qtbot, window: MainWindow, number: int) -> QWidget:
    """Ctrl+<number>: the page in that place of the side bar."""
    keys(qtbot, window, getattr(Qt.Key, f"Key_{number}"), CTRL)
    return window.stack.currentWidget()


def click_row(qtbot, view: QAbstractItemView, row: int, modifier=None) -> None:
    """A mouse click on `row` (with Shift or Ctrl held when given)."""
    index = view.model().index(row, 1)
    view.scrollTo(index)
    rect = view.visualRect(index)
    qtbot.mouseClick(
        view.viewport(),
        Qt.MouseButton.LeftButton,
        modifier or Qt.KeyboardModifier.NoModifier,
        rect.center(),
    )


def click_choice(qtbot, button: QAbstractButton) -> None:
    """Click a radio button or check box on its indicator, as a person aims for it."""
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(8, button.height() // 2))


def modal_dialog(qtbot) -> QWidget:
    """The window-modal dialog that just opened (a confirmation, a connection)."""
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is not None, timeout=WAIT_MS)
    return QApplication.activeModalWidget()
