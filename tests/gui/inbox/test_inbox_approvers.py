"""N approvers in the inbox: "1 of 2 approvals", and the writes this person may not
approve marked (with the reason) before they press A."""

from __future__ import annotations

from PySide6.QtCore import Qt

from sophmate_desktop.console import Console
from sophmate_desktop.store.models import Write
from sophmate_desktop.ui.widgets.inbox_columns import MUTED_COLOUR, NOT_YOURS
from tests.support.factories import make_run, make_write, workflow_yaml
from tests.support.pages import click_row, loaded


def cell(page, write_id: int, title: str, role=Qt.ItemDataRole.DisplayRole):
    count = page.model.columnCount()
    titles = [page.model.headerData(i, Qt.Orientation.Horizontal) for i in range(count)]
    column = titles.index(title)
    return page.model.data(page.model.index(page.model.row_of(write_id), column), role)


def test_two_approvals_shown_and_the_second_by_the_same_person_marked(gui_db, make_page, qtbot):
    lead = Console(gui_db, actor="lead")
    lead.import_workflow(
        workflow_yaml("wf-two").replace("approval: {mode: always}", "approval: {approvers: 2}")
    )
    run = make_run(gui_db, "wf-two")
    first, second = (make_write(gui_db, run, seq=i).id for i in (1, 2))
    Console(gui_db, actor="bob").approve([first])

    page = make_page()  # the page's actor is "ana"
    assert cell(page, first, "Approvals") == "1 of 2 approvals"
    assert cell(page, first, "You") == ""
    assert cell(page, second, "Approvals") == "0 of 2 approvals"

    click_row(qtbot, page, second)
    with qtbot.waitSignal(page.decision_finished, timeout=10_000):
        qtbot.keyClick(page.table, Qt.Key.Key_A)
    assert Write.get_by_id(second).status == "pending"
    loaded(qtbot, page)
    assert cell(page, second, "Approvals") == "1 of 2 approvals"
    assert cell(page, second, "You") == NOT_YOURS
    tip = cell(page, second, "You", Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("You may not approve this write: you approved it already")
    muted = cell(page, second, "Workflow", Qt.ItemDataRole.ForegroundRole)
    assert muted == MUTED_COLOUR
    click_row(qtbot, page, second)
    text = page.preview.decision.text()
    assert "1 of 2 approvals" in text and "You may not approve it" in text
