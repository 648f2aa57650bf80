"""Every page fits a 1024 px laptop (1024x700, the window of a 1024x768 screen) and a
big screen (1600x1000): nothing sticks out of the window or is cut off by its parent,
and "Pause all" stays on screen however many switches the panel shows."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from sophmate_desktop.console import Console
from sophmate_desktop.ui import navigator as nav
from tests.support.factories import workflow_yaml
from tests.support.fit import cut_off
from tests.support.seed import seed_every_page

SIZES = [(1024, 700), (1600, 1000)]
PAGES = [
    nav.DASHBOARD,
    nav.INBOX,
    nav.WORKFLOWS,
    nav.RUNS,
    nav.AUDIT,
    nav.REVIEWS,
    nav.NOTIFICATIONS,
    nav.SETTINGS,
    nav.WELCOME,
]


@pytest.fixture
def seeded_window(make_window, gui_db, qtbot):
    seeded = seed_every_page(gui_db, bulk=30)
    lead = Console(gui_db, actor="lead")
    for n in range(10):  # ten more categories: the panel wraps its switches
        lead.import_workflow(workflow_yaml(f"wf-{n}", f"department-{n}-long-name"))
    window = make_window("ana")

    def at(width: int, height: int):
        window.resize(width, height)
        window.show()
        qtbot.waitExposed(window)
        QApplication.processEvents()
        least = window.minimumSizeHint()
        assert (window.width(), window.height()) == (width, height), (
            f"the window refuses {width}x{height}: it needs {least.width()}x{least.height()}"
        )
        return window

    return at, seeded


def settled(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.services.tasks.busy, timeout=10_000)
    QApplication.processEvents()


def assert_fits(window, what: str) -> None:
    problems = cut_off(window)
    assert not problems, f"{what}: " + "; ".join(problems[:8])
    pause_all = window.kill_switch_panel.pause_all_button
    corner = pause_all.mapTo(window, pause_all.rect().bottomRight())
    assert pause_all.isVisible() and window.rect().contains(corner), "Pause all is off-screen"


def test_the_window_is_narrower_than_a_laptop_screen(seeded_window):
    at, _ = seeded_window
    window = at(1024, 700)
    assert window.minimumSizeHint().width() <= 1024
    assert window.minimumSizeHint().height() <= 700
    assert window.width() == 1024


@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize("key", PAGES)
def test_each_page_fits(seeded_window, qtbot, key, width, height):
    at, _ = seeded_window
    window = at(width, height)
    window.show_page(key)
    settled(qtbot, window)
    assert window.current_page_key() == key
    assert_fits(window, f"{key} at {width}x{height}")


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_detail_views_fit(seeded_window, qtbot, width, height):
    at, seeded = seeded_window
    window = at(width, height)
    window.services.navigator.show_run(seeded.failed_run)
    settled(qtbot, window)
    assert window.pages[nav.RUNS].stack.currentWidget() is window.pages[nav.RUNS].panel
    assert_fits(window, f"a run's page at {width}x{height}")
    window.services.navigator.show_workflow("invoices")
    settled(qtbot, window)
    assert window.pages[nav.WORKFLOWS].editor.isEnabled()
    assert_fits(window, f"the workflow editor at {width}x{height}")
