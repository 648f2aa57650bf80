"""Accessible names and descriptions: every table of every page, the dashboard's
tiles, the paused banner and every kill switch say what they are to a screen reader."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QApplication, QHeaderView

from sophmate_desktop.ui import navigator as nav
from tests.support.seed import seed_every_page


def test_tables_tiles_banner_and_switches_have_accessible_names(make_window, gui_db, qtbot):
    seed_every_page(gui_db, bulk=5)
    window = make_window("ana")
    window.resize(1024, 700)
    window.show()
    unnamed = []
    for key in window.pages:
        window.show_page(key)
        qtbot.waitUntil(lambda: not window.services.tasks.busy, timeout=10_000)
        QApplication.processEvents()
        for view in window.findChildren(QAbstractItemView):
            if isinstance(view, QHeaderView) or not view.isVisibleTo(window):
                continue
            if not view.accessibleName():
                unnamed.append(f"{key}: {view.objectName() or type(view).__name__}")
    assert unnamed == []
    assert window.page(nav.RUNS).table.accessibleName() == "Run history"
    assert window.page(nav.INBOX).table.accessibleDescription().startswith("A approves")

    dash = window.page(nav.DASHBOARD)
    window.show_page(nav.DASHBOARD)
    qtbot.waitUntil(lambda: dash.pending_tile.count_text() != "–", timeout=10_000)
    for tile in (dash.pending_tile, dash.failed_tile, dash.held_tile, dash.paused_tile):
        assert tile.accessibleName() and tile.accessibleName()[0].isdigit()

    panel = window.kill_switch_panel
    for (scope, name), button in panel.buttons.items():
        assert button.accessibleName(), (scope, name)
        assert button.accessibleDescription(), (scope, name)
    finance = panel.switch_button("category", "finance")
    assert finance.accessibleName() == "Kill switch finance: running"

    window.services.console.pause_category("finance", "audit in progress")
    panel.refresh()
    banner = window.paused_banner
    banner.refresh()
    qtbot.waitUntil(lambda: banner.isVisible(), timeout=10_000)
    assert banner.accessibleName() == "Paused"
    assert "finance" in banner.accessibleDescription()
    assert panel.switch_button("category", "finance").accessibleName() == (
        "Kill switch finance: paused"
    )
