"""The inbox is legible: summaries shortened in their paths, not their words (the
whole text in the tooltip), Run and Stage columns, a list of what several selected
rows are, the new state after a decision, and an empty inbox that says why."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QStyleOptionViewItem

from sophmate_desktop.console import Console
from sophmate_desktop.ui.widgets.inbox_columns import SUMMARY_COLUMN
from sophmate_desktop.ui.widgets.path_elide import elide_paths
from tests.support.factories import make_run, make_write, workflow_yaml
from tests.support.pages import click_row, decide, loaded, select_ids

LONG = "copy q3-report.pdf -> /srv/archive/reporting/2026/quarterly/staging/q3-report-5.pdf"


def column_of(page, title: str) -> int:
    titles = [
        page.model.headerData(i, Qt.Orientation.Horizontal) for i in range(page.model.columnCount())
    ]
    return titles.index(title)


def test_elide_paths_keeps_the_words_and_both_ends_of_the_path(qtbot, make_page, seeded):
    metrics = make_page().table.fontMetrics()
    width = metrics.horizontalAdvance(LONG) // 2
    short = elide_paths(LONG, metrics, width)
    assert metrics.horizontalAdvance(short) <= width
    assert short.startswith("copy q3-report.pdf -> /srv")
    assert short.endswith(".pdf") and "…" in short
    assert elide_paths("plain words only", metrics, 1000) == "plain words only"


def test_summary_cells_shorten_paths_and_tooltips_hold_the_whole_text(gui_db, make_page, qtbot):
    lead = Console(gui_db, actor="lead")
    lead.import_workflow(workflow_yaml("reports", "reporting"))
    run = make_run(gui_db, "reports", mode="staging")
    write = make_write(gui_db, run, seq=1, target="/srv/archive/q3-report-5.pdf")
    from sophmate_desktop.store.models import Write

    Write.update(summary=LONG).where(Write.id == write.id).execute()
    page = make_page()
    loaded(qtbot, page)
    row = page.model.row_of(write.id)
    index = page.model.index(row, SUMMARY_COLUMN)
    assert index.data(Qt.ItemDataRole.ToolTipRole) == LONG
    page.table.setColumnWidth(SUMMARY_COLUMN, 300)
    option = QStyleOptionViewItem()
    option.initFrom(page.table)
    option.rect = page.table.visualRect(index)
    page.table.itemDelegateForColumn(SUMMARY_COLUMN).initStyleOption(option, index)
    assert option.text != LONG and option.text.startswith("copy q3-report.pdf")
    assert option.text.endswith(".pdf")
    # the run and its stage, in their own columns
    assert page.model.index(row, column_of(page, "Run")).data() == str(run.id)
    assert page.model.index(row, column_of(page, "Stage")).data() == "staging"


def test_several_selected_rows_are_listed_in_the_preview(qtbot, make_page, seeded):
    page = make_page()
    loaded(qtbot, page)
    invoices = seeded.ids["invoices"]
    select_ids(page, [*invoices, *seeded.ids["hooks"]])
    assert (
        page.preview.title.text() == "6 writes selected: 3 write_file, 2 http_request, 1 send_email"
    )
    body = page.preview.text.toPlainText()
    assert "6 pending" in body and "1 customer-facing" in body.replace("write ", "")
    for target in ("/srv/acct/inv-1.csv", "https://hooks.example.test/2", "billing@acme"):
        assert target in body
    assert not page.preview.open_run.isEnabled()
    click_row(qtbot, page, invoices[0])  # one again: its own preview
    assert page.preview.row is not None and page.preview.row.id == invoices[0]


def test_after_a_decision_the_preview_shows_the_new_state(gui_db, make_page, qtbot):
    lead = Console(gui_db, actor="lead")
    lead.import_workflow(
        workflow_yaml("wf-two").replace("approval: {mode: always}", "approval: {approvers: 2}")
    )
    run = make_run(gui_db, "wf-two")
    write = make_write(gui_db, run, seq=1)
    page = make_page()
    loaded(qtbot, page)
    click_row(qtbot, page, write.id)
    assert "1 of 2" not in page.preview.decision.text()
    decide(qtbot, page, page.decisions.approve)
    assert page.table.current_id() == write.id  # still waiting for a second person
    assert "1 of 2 approvals" in page.preview.decision.text()


def test_an_empty_inbox_says_why_and_what_to_do(qtbot, make_page, seeded, gui_db):
    page = make_page()
    loaded(qtbot, page)
    page.filter_bar.set_filters(
        type(page.filter_bar.filters())(workflow="hooks", kind="send_email")
    )
    qtbot.waitUntil(lambda: page.model.rowCount() == 0 and not page.refreshing, timeout=5000)
    assert page.preview.title.text() == "No write matches the filters"
    assert "6 writes wait in the inbox" in page.preview.text.toPlainText()

    page.filter_bar.clear()
    for ids in seeded.ids.values():
        seeded.lead.reject(ids, comment="not needed")
    loaded(qtbot, page)
    qtbot.waitUntil(lambda: page.model.rowCount() == 0, timeout=5000)
    assert page.preview.title.text() == "Nothing waits for approval"
    assert "enable a workflow" in page.preview.text.toPlainText()
    assert page.table.currentIndex() == QModelIndex() or not page.table.currentIndex().isValid()
