"""Journey 1 with an AI-drafted reply (issue 17): the operations lead adds an AI
provider in Settings (an `llm` connection, its key in the keyring); each supplier
invoice's reply is drafted by a prompt step against the local stand-in provider,
through the real `openai` client; the replies wait in the inbox marked AI-drafted
beside customer-facing, never let through by the relaxed gate; the run page lists
each call with its tokens and cost, and the cost counts against the finance budget."""

from __future__ import annotations

from PySide6.QtCore import Qt

from sophmate_desktop.console import Console
from sophmate_desktop.store.models import PromptCall, Run, Write
from sophmate_desktop.ui import navigator as nav
from sophmate_desktop.ui.widgets.inbox_columns import AI_BADGE, CUSTOMER_BADGE
from tests.support.engine import wait_until
from tests.support.journeys.j1_prompts import LLM, NAME, SMTP, add_llm_in_settings, reply_workflow
from tests.support.journeys.j2 import WAIT_MS, click_row, go_to, shown, staged
from tests.support.llm_server import llm_server
from tests.support.mail import invoice_csv

KEY = "sk-journey-Correct-Horse"
AI_COLUMN, CUSTOMER_COLUMN = 7, 6


def test_a_drafted_supplier_reply_waits_marked_and_its_cost_counts(
    qtbot, make_window, tmp_path, mailbox
) -> None:
    incoming, out = tmp_path / "invoices", tmp_path / "accounting"
    incoming.mkdir()
    out.mkdir()
    with llm_server(api_key=KEY) as provider:
        window = make_window("lead", start_engine=True)
        console = window.services.console
        console.set_secret("llm-key", KEY)
        console.save_connection(SMTP, "smtp", mailbox.settings(), mailbox.settings())
        shown(qtbot, window)

        # The lead adds the AI provider in Settings, like any connection.
        add_llm_in_settings(qtbot, window, provider.base_url, "llm-key")
        [conn] = [c for c in console.list_connections() if c.name == LLM]
        assert conn.kind == "llm" and conn.secret_ref == "llm-key"
        assert KEY not in str(conn.settings)

        # The workflow, its reviewed dry run (placeholders: nothing sent), staging, and
        # one clean approved run: an until_reviewed gate would relax now.
        console.import_workflow(reply_workflow(incoming, out))
        console.set_category_budget("finance", per_day=50.0)
        _staged_with_one_clean_run(console, window, tmp_path, provider)

        # Two invoices arrive; their replies are drafted by the provider.
        provider.answer_by(
            {
                "Supplier 1 ": "Dear Supplier 1, invoice INV-0001 is received.",
                "Supplier 2 ": "Dear Supplier 2, thanks.",
            }
        )
        (incoming / "march.csv").write_text(invoice_csv(2))
        page = window.page(nav.INBOX)
        go_to(qtbot, window, 2)
        qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=WAIT_MS)
        run_id = _the_drafts_wait_marked_in_the_inbox(qtbot, page)

        # The run page: each call with its model, tokens, latency and cost.
        qtbot.mouseClick(page.preview.open_run, Qt.MouseButton.LeftButton)
        _the_run_page_lists_each_call(qtbot, window, run_id, provider)

        # Its cost is the run's cost, and the finance budget counts it (Settings).
        _the_cost_counts_against_the_budget(qtbot, window, console, run_id)


def _staged_with_one_clean_run(console, window, tmp_path, provider) -> None:
    sample = tmp_path / "sample.csv"
    sample.write_text(invoice_csv(1, first=900))
    staged(console, window, NAME, sample)
    assert provider.received == []  # the dry run sent no prompt
    approver = Console(console.db, actor="ana")
    provider.queue("Dear Supplier 900, thank you.")
    first = window.services.engine.run_now(NAME, sample)
    assert window.services.engine.wait_for_run(first, 30) == "awaiting_approval"
    [w] = approver.run_writes(first)
    assert approver.approve([w.id])[0].ok
    wait_until(lambda: approver.get_run(first).status == "succeeded", 30, "the first reply")


def _the_drafts_wait_marked_in_the_inbox(qtbot, page) -> int:
    rows = page.model.loaded_rows()
    assert all(r.ai_drafted and r.customer_facing for r in rows)
    assert page.model.index(0, AI_COLUMN).data() == AI_BADGE
    assert page.model.index(0, CUSTOMER_COLUMN).data() == CUSTOMER_BADGE
    click_row(qtbot, page.table, 0)
    qtbot.waitUntil(lambda: page.preview.row is not None, timeout=WAIT_MS)
    assert page.preview.ai_badge.isVisible() and page.preview.customer_badge.isVisible()
    assert "Dear Supplier 1, invoice INV-0001 is received." in page.preview.text.toPlainText()
    run_id = rows[0].run_id
    stored = list(Write.select().where(Write.run == run_id))
    assert {(w.status, w.ai_drafted, w.customer_facing) for w in stored} == {
        ("pending", True, True)
    }
    assert {w.comment for w in stored} == {
        "AI-drafted customer-facing output always needs approval"
    }
    return run_id


def _the_run_page_lists_each_call(qtbot, window, run_id: int, provider) -> None:
    panel = window.page(nav.RUNS).panel
    qtbot.waitUntil(lambda: panel.run_id == run_id, timeout=WAIT_MS)
    assert panel.tabs.tabText(3) == "&Prompts (2)"
    panel.tabs.setCurrentIndex(3)
    view = panel.prompts_view
    calls = view.model.loaded_rows()
    assert sorted(c.request_id for c in calls) == sorted(
        r.request_id for r in provider.received[-2:]
    )
    assert view.model.index(0, 5).data() == "gpt-x (openai)"
    assert "Dear Supplier 1" in view.text.toPlainText()
    assert "INV-0001" in view.text.toPlainText()
    account = " ".join(panel.account_view.toPlainText().split())
    assert "Its prompt steps asked gpt-x about row 1:" in account


def _the_cost_counts_against_the_budget(qtbot, window, console, run_id: int) -> None:
    cost = sum(c.cost for c in PromptCall.select().where(PromptCall.run_id == run_id))
    assert cost > 0 and Run.get_by_id(run_id).cost == cost
    today, _month = console.category_spending("finance")
    assert today >= cost
    budgets = go_to(qtbot, window, 8).budgets
    budgets.refresh()
    table = budgets.table
    finance = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == "finance")
    assert table.item(finance, 1).text() == "50.00"
    assert table.item(finance, 4).text().startswith(f"{today:.4f} / ")
