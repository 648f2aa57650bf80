"""The inbox's applied view and its Undo button: the undo of the selected applied file
write comes back as a pending write; a changed file is refused in place."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from sophmate_desktop.console import Console
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import Workflow, Write
from sophmate_desktop.store.undo_blobs import UNDO_DIR_ENV
from tests.support.run_flow import WORKFLOW, Flow
from tests.support.undo import applied_run, file_write


@pytest.fixture
def applied(services, gui_db, tmp_path, monkeypatch):
    monkeypatch.setenv(UNDO_DIR_ENV, str(tmp_path / "undo"))
    Console(gui_db, actor="lead").import_workflow(WORKFLOW)
    with write_transaction(gui_db):
        Workflow.update(stage="staging", enabled=True).execute()
    out = tmp_path / "out"
    applied_run(Flow(gui_db, services.console), [file_write(out / "a.txt", "one\n")])
    return out


def _applied_view(qtbot, page):
    assert not page.undo_button.isVisible()
    page.filter_bar.applied.click()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1 and not page.refreshing)
    page.table.select_rows([0], current=0)
    assert page.undo_button.isVisible() and page.undo_button.isEnabled()
    assert page.model.row_at(0).status == "applied"


def test_undo_from_the_applied_view_plans_a_pending_undo(applied, make_page, qtbot):
    page = make_page()
    _applied_view(qtbot, page)
    qtbot.mouseClick(page.undo_button, Qt.MouseButton.LeftButton)
    [undo] = Write.select().where(Write.kind == "undo_file")
    assert (undo.status, undo.target) == ("pending", str(applied / "a.txt"))
    assert "awaits approval: 1 undo writes" in page.decisions.message.text()
    page.filter_bar.applied.click()  # back to the waiting writes: the undo is there
    qtbot.waitUntil(lambda: [r.id for r in page.model.loaded_rows()] == [undo.id])


def test_undo_of_a_changed_file_is_refused_in_place(applied, make_page, qtbot):
    (applied / "a.txt").write_text("edited")
    page = make_page()
    _applied_view(qtbot, page)
    qtbot.mouseClick(page.undo_button, Qt.MouseButton.LeftButton)
    assert "the file changed since it was applied" in page.decisions.message.text()
    assert page.decisions.message.property("level") == "error"
    assert Write.select().where(Write.kind == "undo_file").count() == 0
