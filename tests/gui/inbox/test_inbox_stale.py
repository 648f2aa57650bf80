"""A write that went stale while it was selected: the bulk approval counts it apart
(not refused: replaced), and the inbox shows its replacement with why it is there."""

from __future__ import annotations

from PySide6.QtCore import Qt

from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import Write
from sophmate_desktop.store.transitions import gate
from sophmate_desktop.store.transitions.stale import replace_stale
from tests.support.pages import click_row, select_ids


def _goes_stale(db, write_id: int) -> int:
    """Approved and applied elsewhere, the target changed: stale, and replaced."""
    with write_transaction(db):
        gate.move_write(db, write_id, "pending", "approved", decided_by="lead")
        gate.move_write(db, write_id, "approved", "applying")
    w = Write.get_by_id(write_id)
    replanned = {
        "target": w.target,
        "summary": w.summary,
        "preview": "--- a (current)\n+++ a (new)\n@@ -1 +1 @@\n-edited\n+approved\n",
        "payload": w.payload,
    }
    new_id, _ = replace_stale(
        db, write_id, "the file changed", replanned, "the file changed since this preview"
    )
    assert new_id is not None
    return new_id


def test_bulk_approval_counts_a_stale_write_apart_and_shows_its_replacement(
    seeded, make_page, qtbot, gui_db
):
    page = make_page()
    first, second, *_ = seeded.ids["invoices"]
    select_ids(page, [first, second])
    new_id = _goes_stale(gui_db, first)
    qtbot.mouseClick(page.decisions.approve, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(page.decision_finished, timeout=10_000):
        qtbot.mouseClick(page.confirmation.defaultButton(), Qt.MouseButton.LeftButton)
    text = page.decisions.message.text()
    assert text.startswith("1 of 2 writes approved; 1 stale"), text
    assert "refused" not in text
    assert Write.get_by_id(second).status == "approved"
    qtbot.waitUntil(lambda: page.model.row_of(new_id) is not None, timeout=10_000)
    click_row(qtbot, page, new_id)
    qtbot.waitUntil(lambda: page.preview.row is not None and page.preview.row.id == new_id)
    decision = page.preview.decision.text()
    assert "the file changed since this preview" in decision
    assert f"replaces write {first}" in decision
    assert "+approved" in page.preview.text.toPlainText()
