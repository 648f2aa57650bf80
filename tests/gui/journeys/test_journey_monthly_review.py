"""Journey 4: the monthly automation review.

A month after the last review, the lead opens the Reviews page: what is due and
overdue, what is escalated and why. She opens invoice-intake, reads the plain-language
account of its last production run, checks the month's runs, affected records and
cost, records a review with notes and replaces the owner who left the team. Audit ->
Verify confirms the trail is intact; an export goes to the compliance folder.

The history is real (a real engine ran the workflows, a real SMTP server took the
production e-mails, another approver decided the writes); only the passing of the
month is simulated, by moving the last review 40 days back.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from sophmate_desktop.console import Console
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.resources import example_workflows
from sophmate_desktop.store.database import open_database, write_transaction
from sophmate_desktop.store.models import Run, Workflow
from sophmate_desktop.ui import navigator as nav
from sophmate_desktop.ui.pages.reviews import OVERDUE, ReviewsPage
from sophmate_desktop.ui.pages.workflows import WorkflowsPage
from sophmate_desktop.ui.widgets.review_dialog import ReviewDialog, month_text
from tests.support.factories import make_run, workflow_yaml
from tests.support.gui import WAIT_MS, click, retype
from tests.support.journeys.j1 import (
    a_month_ago,
    activate,
    audit_of,
    choose_file,
    click_row,
    drop_file,
    press,
    row_with,
    shown_column,
)
from tests.support.mail import SmtpServer, invoice_csv


def example(name: str) -> str:
    [path] = [p for p in example_workflows() if p.stem == name]
    return path.read_text(encoding="utf-8")


@pytest.fixture
def mail() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def history(sqlite_url: str, mail: SmtpServer, user_dirs: Path) -> str:
    """Three workflows as a month of use left them (before the window opens)."""
    db = open_database(sqlite_url)
    try:
        lead = Console(db, actor="ana")
        lead.save_connection("supplier-smtp", "smtp", mail.settings(), mail.settings())
        # invoice-intake, complete, owned by bo (who has left the team), in production.
        lead.import_workflow(
            example("invoice-intake").replace("owner: ops-lead", "owner: bo")
            + "notify: {on_failure: [tray]}\n"
            + "rollback: Delete the copies listed in the run's writes; phone the suppliers.\n"
        )
        lead.record_review("invoice-intake", "first_run", "Dry run read through.")
        with write_transaction(db):
            Workflow.update(stage="production").where(Workflow.name == "invoice-intake").execute()
        (user_dirs / "invoices" / "incoming").mkdir(parents=True)  # its watched folder
        lead.enable_workflow("invoice-intake")
        # status-webhook, retrying nothing, so two bad files are two final failures.
        lead.import_workflow(
            example("status-webhook")
            .replace("limit: 2", "limit: 0")
            .replace('"webhook:https://chat.example.test/hooks/ops"', "tray")
        )
        # nightly-cleanup, whose owner field was emptied.
        lead.import_workflow(example("nightly-cleanup").replace("owner: ops-lead\n", ""))
    finally:
        db.close()
    return sqlite_url


def test_monthly_review(qtbot, make_window, history: str, mail, user_dirs: Path) -> None:
    window = make_window("ana", start_engine=True, url=history)
    window.show()
    activate(qtbot, window)
    console = window.services.console
    run = a_month_of_work(qtbot, window, user_dirs)
    a_month_ago(console.db, "invoice-intake", days=40)

    # 1. The Reviews page lists what is due and overdue, and what is escalated, with why.
    reviews = _the_reviews_page_lists_what_is_due_and_escalated(qtbot, window)

    # 2. She opens invoice-intake, and its last run's plain-language account.
    _opens_the_workflow_and_its_last_runs_account(qtbot, window, console, reviews, run)

    # She checks the month's runs, records and cost in the review dialog, records her
    # review with notes and replaces bo, who left the team, by cy.
    notes = _records_her_review_and_the_new_owner(qtbot, window, console, reviews, run)

    # 3. Audit -> Verify says the trail is intact; an export goes to the compliance folder.
    _the_audit_trail_verifies_and_exports(qtbot, window, console, notes, user_dirs)


def _the_reviews_page_lists_what_is_due_and_escalated(qtbot, window):
    press(qtbot, window, "Ctrl+6")
    reviews = window.page(nav.REVIEWS)
    qtbot.waitUntil(lambda: reviews.escalation_model.rowCount() == 3, timeout=WAIT_MS)
    due = list(
        zip(
            shown_column(reviews.due_model, "Workflow"),
            shown_column(reviews.due_model, "Review"),
            shown_column(reviews.due_model, "Reason"),
            strict=True,
        )
    )
    assert due[0][:2] == ("invoice-intake", "Regular (monthly)")  # overdue comes first
    assert due[0][2].startswith("monthly review (30 days since ")
    assert "; overdue since " in due[0][2]
    assert reviews.due_model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) == OVERDUE
    assert ("status-webhook", "After a failure") in [d[:2] for d in due]
    assert ("nightly-cleanup", "First run") in [d[:2] for d in due]
    assert reviews.summary.text() == "4 reviews due, 1 overdue"
    escalated = dict(
        zip(
            shown_column(reviews.escalation_model, "Workflow"),
            shown_column(reviews.escalation_model, "Why escalated"),
            strict=True,
        )
    )
    assert escalated == {
        "invoice-intake": "writes production data; sends customer-facing output; "
        "monthly review overdue",
        "nightly-cleanup": "has no visible owner",
        "status-webhook": "failed 2 runs in a row (pauses itself at 3)",
    }
    assert reviews.escalation_title.text().startswith("Escalated workflows (3)")
    return reviews


def _opens_the_workflow_and_its_last_runs_account(qtbot, window, console, reviews, run) -> None:
    click_row(qtbot, reviews.due_table, row_with(reviews.due_model, "Workflow", "invoice-intake"))
    click(qtbot, reviews, "openWorkflowButton")
    assert window.current_page_key() == nav.WORKFLOWS
    workflows = window.page(nav.WORKFLOWS)
    assert workflows.editor.name == "invoice-intake"
    assert workflows.editor.form.fields["owner"].text() == "bo"
    click(qtbot, workflows, "lastRunButton")
    assert window.current_page_key() == nav.RUNS
    panel = window.page(nav.RUNS).panel
    assert panel.run_id == run
    account = panel.account_view.toPlainText()
    assert account.startswith(f"Run {run} of invoice-intake succeeded")
    assert "It ran in production" in account
    assert "dee approved 3 at " in account and '("checked against the supplier list")' in account
    assert "dee rejected 1 at " in account and '("supplier 3 asked for no e-mails")' in account
    assert "send_email to supplier3@example.test (customer-facing): rejected by dee" in account
    told = console.run_account(run)  # the same account as `runs show ID` prints
    assert all(p in account for p in (told.headline, *told.paragraphs, *told.bullets))


def _records_her_review_and_the_new_owner(qtbot, window, console, reviews, run):
    press(qtbot, window, "Ctrl+6")
    click_row(qtbot, reviews.due_table, row_with(reviews.due_model, "Workflow", "invoice-intake"))
    press(qtbot, reviews.due_table, "Enter")
    qtbot.waitUntil(lambda: reviews.dialog is not None and reviews.dialog.isVisible())
    dialog = reviews.dialog
    records = console.get_run(run).affected_records
    assert dialog.month_label.text() == f"1 run, {records} affected records, cost 0.00"
    assert dialog.kind_combo.currentText() == "Regular (monthly)"
    assert "overdue since" in dialog.reason_label.text()
    assert dialog.owner_edit.text() == "bo"
    retype(qtbot, dialog.owner_edit, "cy")
    notes = "Checked November: 1 production run, the rejected mail was right; bo left, cy owns it."
    dialog.notes.setFocus()
    qtbot.keyClicks(dialog.notes, notes)
    with qtbot.waitSignal(reviews.refreshed, timeout=WAIT_MS):
        click(qtbot, dialog, "recordReviewButton")
    assert reviews.status.text().startswith(
        "Review of invoice-intake recorded (Regular (monthly))."
    )
    qtbot.waitUntil(lambda: "invoice-intake" not in shown_column(reviews.due_model, "Workflow"))
    assert console.get_workflow("invoice-intake").owner == "cy"
    [owner_change] = audit_of(console, "workflow.updated", workflow="invoice-intake")
    assert (owner_change.actor, owner_change.details["changed"]) == ("ana", ["owner"])
    review = audit_of(console, "review.recorded", workflow="invoice-intake")[-1]
    assert (review.actor, review.details["kind"], review.reason) == ("ana", "monthly", notes)
    return notes


def _the_audit_trail_verifies_and_exports(qtbot, window, console, notes, user_dirs) -> None:
    press(qtbot, window, "Ctrl+5")
    audit = window.page(nav.AUDIT)
    with qtbot.waitSignal(audit.verify_finished, timeout=WAIT_MS) as verified:
        click(qtbot, audit, "verifyButton")
    assert verified.args == [True]
    total = console.verify_audit().checked
    assert audit.verify_result.text().startswith(f"Chain intact: {total:,} events")
    compliance = user_dirs / "compliance"
    compliance.mkdir()
    target = compliance / "sophmate-audit-2026-11.jsonl"
    with qtbot.waitSignal(audit.export_finished, timeout=WAIT_MS) as exported:
        click(qtbot, audit, "exportButton")
        choose_file(qtbot, target)
    assert exported.args == [True]
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    lines = [row for row in rows if "checkpoint" not in row]  # the chain head's checkpoints
    assert len(lines) < len(rows)
    assert audit.export_result.text() == f"Exported {len(lines):,} events to {target}"
    assert len(lines) >= total
    assert any(e["action"] == "review.recorded" and e["reason"] == notes for e in lines)


def a_month_of_work(qtbot, window, user_dirs: Path) -> int:
    """Real runs: a production run of invoice-intake whose writes dee decided, and two
    status files that were not JSON. Returns the invoice run's id."""
    console, engine = window.services.console, window.services.engine
    approver = Console(console.db, actor="dee")
    drop_file(user_dirs / "invoices" / "incoming", "invoices-2026-11.csv", invoice_csv(3))

    def awaiting() -> bool:
        return bool(console.runs_page(0, 5, workflow="invoice-intake", status="awaiting_approval"))

    qtbot.waitUntil(awaiting, timeout=WAIT_MS)
    [run] = console.runs_page(0, 5, workflow="invoice-intake")
    writes = console.run_writes(run.id)
    approver.approve([w.id for w in writes[:3]], "checked against the supplier list")
    approver.reject([writes[3].id], "supplier 3 asked for no e-mails")
    qtbot.waitUntil(lambda: console.get_run(run.id).status == "succeeded", timeout=WAIT_MS)
    bad = user_dirs / "status-bad.json"
    bad.write_text("{not json", encoding="utf-8")
    for _ in range(2):
        assert engine.wait_for_run(engine.run_now("status-webhook", bad), WAIT_MS / 1000) == (
            "failed"
        )
    return run.id


# Focused tests of what this journey needed -------------------------------------------


def test_the_reviews_page_lists_escalated_workflows_and_reviews_one(qtbot, services) -> None:
    console = services.console
    console.import_workflow(workflow_yaml("wf-orphan").replace("owner: ops-lead\n", ""))
    console.import_workflow(workflow_yaml("wf-owned"))
    page = ReviewsPage(services)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.escalation_model.rowCount() == 1, timeout=WAIT_MS)
    assert shown_column(page.escalation_model, "Why escalated") == ["has no visible owner"]
    assert shown_column(page.escalation_model, "Owner") == ["— none —"]

    click_row(qtbot, page.escalation_table, 0)
    assert not page.due_table.selectionModel().hasSelection()  # one selection at a time
    click(qtbot, page, "reviewButton")
    qtbot.waitUntil(lambda: page.dialog is not None and page.dialog.isVisible())
    assert page.dialog.workflow == "wf-orphan"
    qtbot.keyClicks(page.dialog.owner_edit, "cy")
    qtbot.keyClicks(page.dialog.notes, "Named an owner.")
    with qtbot.waitSignal(page.refreshed, timeout=WAIT_MS):
        click(qtbot, page.dialog, "recordReviewButton")
    assert page.escalation_model.rowCount() == 0
    assert console.get_workflow("wf-orphan").owner == "cy"


def test_last_run_opens_the_newest_run_of_the_workflow(qtbot, services) -> None:
    console = services.console
    console.import_workflow(workflow_yaml("wf-one"))
    page = WorkflowsPage(services)
    qtbot.addWidget(page)
    page.show()
    page.refresh()
    page.show_workflow("wf-one")
    activate(qtbot, page)
    press(qtbot, page.table, "Ctrl+L")
    assert page.message.text() == "wf-one has not run yet."

    make_run(console.db, "wf-one", status="succeeded")
    newest = make_run(console.db, "wf-one", status="failed")
    with qtbot.waitSignal(services.navigator.run_requested, timeout=WAIT_MS) as opened:
        click(qtbot, page, "lastRunButton")
    assert opened.args == [newest.id]


def test_the_review_dialog_shows_the_last_30_days(qtbot, services) -> None:
    console = services.console
    console.import_workflow(workflow_yaml("wf-one"))
    now = utcnow()
    for status, records, cost, days_ago in (
        ("succeeded", 12, 1.25, 2),
        ("failed", 5, 0.25, 10),
        ("succeeded", 99, 9.0, 31),  # before the last 30 days
    ):
        run = make_run(console.db, "wf-one", status=status)
        with write_transaction(console.db):
            Run.update(
                affected_records=records, cost=cost, finished_at=now - dt.timedelta(days=days_ago)
            ).where(Run.id == run.id).execute()
    dialog = ReviewDialog(console, "wf-one")
    qtbot.addWidget(dialog)
    assert dialog.month_label.text() == "2 runs (1 failed), 17 affected records, cost 1.50"
    make_run(console.db, "wf-one", status="running")  # unfinished runs do not count
    assert month_text(console.review_summary("wf-one")) == dialog.month_label.text()
