"""Helpers for journey 5 (a team shares one PostgreSQL database) and the window's life
cycle: the example invoice workflow adapted to temporary folders, files dropped the
way an export drops them, and driving a window's pages, switches and dialogs."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from sophmate_desktop import resources
from sophmate_desktop.domain.events import Event
from sophmate_desktop.ui.main_window import MainWindow
from sophmate_desktop.ui.widgets.switch_dialogs import SwitchDialog
from tests.support.paths import REPO

WAIT_MS = 10_000


def intake_workflow(folder: Path, out: Path, staging: Path, name: str = "team-intake") -> str:
    """The example invoice-intake.yaml, made complete and pointed at temporary folders:
    each new CSV is copied into the accounting folder once someone approves it."""
    [text] = [t for n, t in resources.example_workflow_texts() if n == "invoice-intake.yaml"]
    doc = yaml.safe_load(text)
    doc["name"] = name
    doc["trigger"].update(folder=str(folder), settle_ms=100)
    doc["output"] = {"paths": [str(out)], "staging_paths": [str(staging)]}
    doc["steps"] = [step for step in doc["steps"] if step["action"] == "copy_file"]
    doc["approval"] = {"mode": "always"}
    doc["retry"] = {"limit": 0, "backoff_s": 0}
    doc["notify"] = {"on_failure": ["tray"]}
    doc["rollback"] = "Delete the copies listed in the run's writes."
    return yaml.safe_dump(doc, sort_keys=False)


def drop_file(folder: Path, name: str, text: str) -> Path:
    """Written beside the folder, then moved in: the file arrives whole."""
    staged = folder.parent / f".{name}.part"
    staged.write_text(text, encoding="utf-8")
    target = folder / name
    os.replace(staged, target)
    return target


def activate(qtbot, window: MainWindow) -> None:
    """Show the window and bring it to the front, as a click on it does."""
    window.show()
    window.raise_()

    def active() -> bool:
        handle = window.windowHandle()
        # Offscreen, a window shown again after hide() is the focus window (where keys
        # and shortcuts go) but QApplication.activeWindow() may stay None.
        if QApplication.activeWindow() is window or (
            QApplication.activeWindow() is None
            and QGuiApplication.focusWindow() is handle
            and handle.isActive()
        ):
            return True
        window.activateWindow()  # activation is asynchronous; another window may win
        return False

    qtbot.waitUntil(active)


def go_to(qtbot, window: MainWindow, number: int) -> None:
    """Ctrl+<number> in the window, as a person switches pages."""
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key(Qt.Key.Key_0 + number), Qt.KeyboardModifier.ControlModifier)


def pause_switch(qtbot, window: MainWindow, scope: str, name: str, reason: str) -> float:
    """Click a kill switch, type the reason, press Enter; returns when the pause committed."""
    activate(qtbot, window)
    panel = window.kill_switch_panel
    qtbot.mouseClick(panel.switch_button(scope, name), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), SwitchDialog))
    dialog = QApplication.activeModalWidget()
    qtbot.keyClicks(dialog.reason_edit, reason)
    qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.dialog is None)  # closed only once the pause committed
    return time.monotonic()


class EventClock:
    """When an engine published each kind of event (its own thread's clock)."""

    def __init__(self, listeners) -> None:
        self._lock = threading.Lock()
        self.seen: list[tuple[str, float]] = []
        self._unsubscribe = listeners.subscribe(self._record)

    def _record(self, event: Event) -> None:
        with self._lock:
            self.seen.append((event.kind, time.monotonic()))

    def first(self, kind: str, after: float) -> float | None:
        with self._lock:
            return next((t for k, t in self.seen if k == kind and t >= after), None)

    def close(self) -> None:
        self._unsubscribe()


def app_process(*args: str, home: Path, cwd: Path = REPO) -> subprocess.Popen:
    """`python -m sophmate_desktop ARGS` offscreen, with its own home and user folders."""
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        PYTHONPATH=str(REPO),
        PYTHON_KEYRING_BACKEND="tests.support.inmemory_keyring.InMemoryKeyring",
    )
    env.pop("SOPHMATE_DB", None)
    return subprocess.Popen(
        [sys.executable, "-m", "sophmate_desktop", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
