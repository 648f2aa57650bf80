"""The run page's Undo buttons: the whole run or the selected write goes to the inbox
as undo writes; a refusal (the file changed, an e-mail) is said in place."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from sophmate_desktop.store.models import Run, Write
from sophmate_desktop.store.undo_blobs import UNDO_DIR_ENV
from tests.support.run_flow import email
from tests.support.undo import applied_run, file_write


@pytest.fixture
def applied(flow, tmp_path, monkeypatch):
    monkeypatch.setenv(UNDO_DIR_ENV, str(tmp_path / "undo"))
    out = tmp_path / "out"
    planned = [file_write(out / "a.txt", "one\n"), email(1)]
    return applied_run(flow, planned), out


def _open(qtbot, page, run_id: int):
    page.refresh()
    assert page.select_run(run_id)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    return page.panel


def test_undo_run_plans_the_undo_and_says_what_was_left(qtbot, page, applied) -> None:
    run_id, out = applied
    panel = _open(qtbot, page, run_id)
    assert panel.undo.run_button.isEnabled() and not panel.undo.write_button.isEnabled()
    qtbot.mouseClick(panel.undo.run_button, Qt.MouseButton.LeftButton)
    [undo_run] = Run.select().where(Run.trigger_kind == "undo")
    [undo] = Write.select().where(Write.run == undo_run.id)
    assert (undo.kind, undo.status, undo.target) == ("undo_file", "pending", str(out / "a.txt"))
    text = panel.message.text()
    assert f"run {undo_run.id} awaits approval: 1 undo writes" in text
    assert "send_email" in text and "Delete the written file." in text
    assert panel.message.property("error") is False


def test_undo_write_is_refused_in_place_when_the_file_changed(qtbot, page, applied) -> None:
    run_id, out = applied
    (out / "a.txt").write_text("edited since")
    panel = _open(qtbot, page, run_id)
    panel.writes_view.setFocus()
    row = next(
        i
        for i in range(panel.writes_model.rowCount())
        if panel.writes_model.row_at(i).kind == "write_file"
    )
    panel.writes_view.setCurrentIndex(panel.writes_model.index(row, 0))
    assert panel.undo.write_button.isEnabled()
    qtbot.mouseClick(panel.undo.write_button, Qt.MouseButton.LeftButton)
    assert "the file changed since it was applied" in panel.message.text()
    assert panel.message.property("error") is True
    assert Run.select().where(Run.trigger_kind == "undo").count() == 0
