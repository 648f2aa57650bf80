"""GUI fixtures: services on a temporary SQLite database, the main window, and a
check that no worker thread outlives a test."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from sophmate_desktop.console import Console
from sophmate_desktop.ui.bridge import EventBridge
from sophmate_desktop.ui.navigator import Navigator
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.tasks import TaskRunner
from tests.support.gui import isolate_user_dirs


@pytest.fixture(autouse=True)
def user_dirs(monkeypatch: pytest.MonkeyPatch, tmp_path_factory) -> None:
    """The window's remembered folders and settings go below the test's folder."""
    isolate_user_dirs(monkeypatch, tmp_path_factory.mktemp("user"))


@pytest.fixture(autouse=True)
def no_thread_left_behind() -> Iterator[None]:
    before = {t.ident for t in threading.enumerate()}
    yield
    deadline = threading.Event()
    leftover = []
    for _ in range(50):  # threads that are finishing get up to 5 s to end
        # Qt pool threads that ran Python code show up as _DummyThread forever.
        leftover = [
            t
            for t in threading.enumerate()
            if t.ident not in before and t.is_alive() and not isinstance(t, threading._DummyThread)
        ]
        if not leftover:
            break
        deadline.wait(0.1)
    assert not leftover, f"threads still running after the test: {[t.name for t in leftover]}"


@pytest.fixture
def gui_db(sqlite_db):
    """The GUI tests' database: SQLite in the test's folder (tests/conftest.py)."""
    return sqlite_db


@pytest.fixture
def services(qtbot, gui_db) -> Iterator[UiServices]:
    """Everything a page needs, without an engine (pages are tested one at a time)."""
    console = Console(gui_db, actor="ana")
    bridge = EventBridge()
    bridge.attach(console.events)
    tasks = TaskRunner(console)
    svc = UiServices(console=console, events=bridge, tasks=tasks, navigator=Navigator())
    yield svc
    assert tasks.wait_done(30_000)
    bridge.detach_all()


@pytest.fixture
def make_window(qtbot, sqlite_url: str):
    """create_window(...) with shutdown at teardown; the engine only when asked."""
    from sophmate_desktop.app import create_window

    windows = []

    def make(actor: str = "ana", start_engine: bool = False, url: str | None = None, **options):
        window = create_window(
            url or sqlite_url, actor=actor, start_engine=start_engine, **options
        )
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()
