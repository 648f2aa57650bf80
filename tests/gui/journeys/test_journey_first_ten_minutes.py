"""Journey 1: an operations lead automates invoice intake in her first ten minutes.

On a new database, through the real main window and a real engine watching real
folders (the example workflow's "~/..." folders live under the test's HOME), with two
real SMTP servers: the production one must never receive anything here, the staging
one receives the staging runs' e-mails once they are approved.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from sophmate_desktop.console.workflow_pages import DryRunResult
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import Write
from sophmate_desktop.ui import navigator as nav
from sophmate_desktop.ui.widgets.wf_dialogs import ConfirmDialog
from sophmate_desktop.ui.widgets.wf_dryrun import DryRunPanel
from tests.support.factories import make_run, make_write, workflow_yaml
from tests.support.gui import WAIT_MS, click
from tests.support.journeys.j1 import (
    activate,
    add_connection,
    audit_of,
    choose_file,
    click_row,
    confirm,
    drop_file,
    files_in,
    press,
    row_with,
    shown_column,
    write_file,
)
from tests.support.mail import SmtpServer, invoice_csv

WORKFLOW = "invoice-intake"


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpServer, SmtpServer]]:
    """(production, staging) mail servers."""
    production, staging = SmtpServer().start(), SmtpServer().start()
    yield production, staging
    production.stop()
    staging.stop()


def test_first_ten_minutes(qtbot, make_window, smtp, user_dirs: Path, tmp_path: Path) -> None:
    production_mail, staging_mail = smtp
    incoming = user_dirs / "invoices" / "incoming"
    production_folder = user_dirs / "accounting" / "inbox"
    staging_folder = user_dirs / "accounting" / "staging"
    incoming.mkdir(parents=True)

    # 1. The first start opens the welcome page: where the data lives, the keyring
    #    works, the example workflows are offered.
    window = make_window("ana", start_engine=True)
    window.show()
    activate(qtbot, window)
    console = window.services.console
    welcome = _the_welcome_page_offers_the_examples(qtbot, window, tmp_path)

    # 2. She imports the examples. invoice-intake lacks a notification path and a
    #    rollback path: the checklist shows both, Enable says so.
    checklist, page = _imports_the_examples_and_enable_is_refused(qtbot, window, console, welcome)

    # She fills both in on the form (tick "Notification", type the paths, type the
    # rollback) and saves with Ctrl+S.
    _fills_in_the_missing_checklist_items(qtbot, window, console, page, checklist)

    # The supplier mailbox the e-mail step names, with a test mailbox for staging.
    _adds_the_supplier_mailbox(qtbot, window, console, production_mail, staging_mail)

    # 3. "Dry run on a file..." with last month's CSV (14 invoices): one copy and 14
    #    e-mails planned, each with a preview; nothing sent, nothing copied.
    _dry_runs_last_months_invoices(
        qtbot,
        window,
        console,
        page,
        production_folder,
        production_mail,
        staging_folder,
        staging_mail,
        tmp_path,
    )

    # 4. She records the first-run review in the Reviews page's dialog (Enter) ...
    _records_the_first_run_review(qtbot, window, console)

    # ... promotes it to staging and enables it.
    _promotes_to_staging_and_enables(qtbot, window, console, page)

    # Files now land in the staging folder and e-mails go to the staging SMTP server,
    # once she approved them (nothing is applied before).
    _staging_runs_write_to_staging_once_approved(
        qtbot,
        window,
        console,
        incoming,
        production_folder,
        production_mail,
        staging_folder,
        staging_mail,
    )

    # 5. "Promote" says how many reviewed staging runs are missing until there are five.
    _five_reviewed_staging_runs_allow_production(
        qtbot,
        window,
        console,
        page,
        incoming,
        production_folder,
        production_mail,
        staging_folder,
        staging_mail,
    )


def _the_welcome_page_offers_the_examples(qtbot, window, tmp_path):
    assert window.current_page_key() == nav.WELCOME
    welcome = window.page(nav.WELCOME)
    assert f"In the local database {tmp_path / 'sophmate.sqlite3'}" in welcome.data_label.text()
    qtbot.waitUntil(lambda: "The keyring works" in welcome.keyring_label.text(), timeout=WAIT_MS)
    assert welcome.examples_button.text() == "Load the &example workflows"
    assert "invoice intake" in welcome.examples_note.text()
    return welcome


def _imports_the_examples_and_enable_is_refused(qtbot, window, console, welcome):
    click(qtbot, welcome, "loadExamplesButton")
    qtbot.waitUntil(lambda: WORKFLOW in welcome.status.text(), timeout=WAIT_MS)
    assert "Open Workflows (Ctrl+3)" in welcome.status.text()
    activate(qtbot, window)
    press(qtbot, window, "Ctrl+3")
    page = window.page(nav.WORKFLOWS)
    assert window.current_page_key() == nav.WORKFLOWS
    click_row(qtbot, page.table, page.model.row_of(WORKFLOW))
    qtbot.waitUntil(lambda: page.editor.name == WORKFLOW, timeout=WAIT_MS)
    checklist = page.editor.checklist
    missing = [item for item, present in checklist.state().items() if present is False]
    assert missing == ["notification path", "rollback path"]
    assert "✗  notification path" in checklist.texts()
    assert checklist.summary.text().startswith("2 items missing: it cannot be enabled")
    click(qtbot, page, "enableButton")
    assert page.message.text() == (
        "cannot enable invoice-intake: missing notification path, rollback path"
    )
    assert not console.get_workflow(WORKFLOW).enabled
    return checklist, page


def _fills_in_the_missing_checklist_items(qtbot, window, console, page, checklist) -> None:
    form = page.editor.form
    notify = form.groups["notify"]
    notify.setFocus()
    press(qtbot, notify, "Space")
    assert notify.isChecked()
    on_failure = form.fields["notify.on_failure"]
    assert isinstance(on_failure, QLineEdit)
    on_failure.setFocus()
    qtbot.keyClicks(on_failure, "tray, email:ops@example.test")
    form.rollback_edit.setFocus()
    qtbot.keyClicks(
        form.rollback_edit, "Delete the copies listed in the run's writes; phone the suppliers."
    )
    qtbot.waitUntil(lambda: checklist.summary.text() == "Complete: it may be enabled.")
    activate(qtbot, window)
    press(qtbot, form.rollback_edit, "Ctrl+S")
    qtbot.waitUntil(lambda: "Saved invoice-intake as revision 2." in page.message.text())
    saved = console.get_definition(WORKFLOW)
    assert saved.notify.on_failure == ("tray", "email:ops@example.test")
    assert saved.rollback.startswith("Delete the copies")
    assert tuple(console.get_workflow(WORKFLOW).missing_checklist) == ()
    [updated] = audit_of(console, "workflow.updated")
    assert updated.actor == "ana"
    assert set(updated.details["changed"]) == {"notify", "rollback"}


def _adds_the_supplier_mailbox(qtbot, window, console, production_mail, staging_mail) -> None:
    said = add_connection(
        qtbot, window, "supplier-smtp", production_mail.settings(), staging_mail.settings()
    )
    assert said == "Created connection supplier-smtp."
    connection = console.list_connections()[0]
    assert connection.staging_settings == staging_mail.settings()
    assert audit_of(console, "connection.created")[0].actor == "ana"


def _dry_runs_last_months_invoices(
    qtbot,
    window,
    console,
    page,
    production_folder,
    production_mail,
    staging_folder,
    staging_mail,
    tmp_path,
) -> None:
    press(qtbot, window, "Ctrl+3")
    last_month = write_file(tmp_path / "exports" / "invoices-2026-10.csv", invoice_csv(14))
    click(qtbot, page, "dryRunButton")
    choose_file(qtbot, last_month)
    panel = page.dry_run_panel
    qtbot.waitUntil(lambda: panel.run_id is not None, timeout=WAIT_MS)
    dry = console.get_run(panel.run_id)
    assert (dry.mode, dry.status) == ("dry_run", "succeeded")
    status = panel.status_text()
    assert status.startswith(f"Run {dry.id} of invoice-intake on invoices-2026-10.csv: succeeded")
    assert "15 planned writes (1 copy_file, 14 send_email), 14 affected records" in status
    assert f"{dry.affected_records} affected records. Nothing was written." in status
    writes = console.run_writes(dry.id)
    assert [w.kind for w in writes] == ["copy_file"] + ["send_email"] * 14
    assert {w.status for w in writes} == {"planned"}
    assert all(w.preview.strip() for w in writes)
    assert len(panel.write_targets()) == 15
    click_row(qtbot, panel.writes, 1)  # the first e-mail: its preview is shown
    assert "To: supplier1@example.test" in panel.preview_text()
    assert "From: invoices@example.test" in panel.preview_text()
    assert "Subject: Invoice INV-0001 received" in panel.preview_text()
    assert production_mail.received == [] and staging_mail.received == []
    assert files_in(production_folder) == [] and files_in(staging_folder) == []


def _records_the_first_run_review(qtbot, window, console) -> None:
    activate(qtbot, window)
    press(qtbot, window, "Ctrl+6")
    reviews = window.page(nav.REVIEWS)
    qtbot.waitUntil(lambda: WORKFLOW in shown_column(reviews.due_model, "Workflow"))
    row = row_with(reviews.due_model, "Workflow", WORKFLOW)
    assert shown_column(reviews.due_model, "Review")[row] == "First run"
    click_row(qtbot, reviews.due_table, row)
    press(qtbot, reviews.due_table, "Enter")
    qtbot.waitUntil(lambda: reviews.dialog is not None and reviews.dialog.isVisible())
    dialog = reviews.dialog
    assert dialog.kind_combo.currentText() == "First run"
    assert dialog.runs_label.text() == "1 succeeded, 0 failed"
    assert dialog.promotion_label.text().endswith("after this review it is allowed")
    qtbot.keyClicks(dialog.notes, "Read the 15 planned writes of the dry run: all correct.")
    with qtbot.waitSignal(reviews.refreshed, timeout=WAIT_MS):
        click(qtbot, dialog, "recordReviewButton")
    assert reviews.status.text() == (
        "Review of invoice-intake recorded (First run). "
        "Promotion: promotion to staging is allowed now."
    )
    [review] = audit_of(console, "review.recorded")
    assert (review.actor, review.details["kind"], review.reason) == (
        "ana",
        "first_run",
        "Read the 15 planned writes of the dry run: all correct.",
    )


def _promotes_to_staging_and_enables(qtbot, window, console, page) -> None:
    assert promote(qtbot, window) == ""  # allowed: a confirmation, no refusal
    text = confirm(qtbot, ConfirmDialog)
    assert "Promote invoice-intake from dry run to staging?" in text
    assert "use the staging settings of their connections" in text
    qtbot.waitUntil(lambda: page.message.text() == "invoice-intake is now in staging.")
    click(qtbot, page, "enableButton")
    assert page.message.text() == "invoice-intake is enabled: its trigger starts runs."
    row = console.get_workflow(WORKFLOW)
    assert (row.stage, row.enabled) == ("staging", True)
    [promoted] = audit_of(console, "workflow.promoted")
    assert (promoted.actor, promoted.details) == ("ana", {"from": "dry_run", "to": "staging"})


def _staging_runs_write_to_staging_once_approved(
    qtbot,
    window,
    console,
    incoming,
    production_folder,
    production_mail,
    staging_folder,
    staging_mail,
) -> None:
    [first] = staging_runs(
        qtbot,
        window,
        incoming,
        {"invoices-2026-11.csv": invoice_csv(14)},
        before_approval=lambda: files_in(staging_folder) == [] and not staging_mail.received,
    )
    assert files_in(staging_folder) == [f"invoices-2026-11-{first}.csv"]
    assert staging_mail.recipients() == sorted(f"supplier{n}@example.test" for n in range(1, 15))
    assert {str(m["Subject"]) for m in staging_mail.received} == {
        f"Invoice INV-{n:04} received" for n in range(1, 15)
    }
    assert production_mail.received == [] and files_in(production_folder) == []
    approvals = audit_of(console, "write.approved", run=first)
    assert len(approvals) == 15 and {a.actor for a in approvals} == {"ana"}


def _five_reviewed_staging_runs_allow_production(
    qtbot,
    window,
    console,
    page,
    incoming,
    production_folder,
    production_mail,
    staging_folder,
    staging_mail,
) -> None:
    assert promote(qtbot, window) == (
        "invoice-intake: cannot promote to production: needs 5 reviewed successful "
        "staging runs, has 0 of 5 reviewed staging runs"
    )
    assert review_staging_runs(qtbot, window, "First staging run: copy and mails fine.") == (
        "Review of invoice-intake recorded (Regular (monthly)). Promotion: not yet "
        "(needs 5 reviewed successful staging runs, has 1 of 5 reviewed staging runs)."
    )
    more = {f"invoices-extra-{n}.csv": invoice_csv(1, 100 + n) for n in (1, 2)}
    staging_runs(qtbot, window, incoming, more)
    review_staging_runs(qtbot, window, "Two more staging runs checked.")
    assert promote(qtbot, window).endswith("has 3 of 5 reviewed staging runs")
    assert console.get_workflow(WORKFLOW).stage == "staging"
    more = {f"invoices-extra-{n}.csv": invoice_csv(1, 100 + n) for n in (3, 4)}
    staging_runs(qtbot, window, incoming, more)
    assert review_staging_runs(qtbot, window, "Five reviewed staging runs.").endswith(
        "Promotion: promotion to production is allowed now."
    )
    assert promote(qtbot, window) == ""
    assert "from staging to production?" in confirm(qtbot, ConfirmDialog)
    qtbot.waitUntil(lambda: page.message.text() == "invoice-intake is now in production.")
    assert console.get_workflow(WORKFLOW).stage == "production"
    assert len(staging_mail.received) == 18 and production_mail.received == []
    assert len(files_in(staging_folder)) == 5 and files_in(production_folder) == []


def staging_runs(
    qtbot, window, incoming: Path, files: dict[str, str], before_approval=lambda: True
) -> list[int]:
    """Drop files into the watched folder; approve their runs' writes in the inbox
    (Ctrl+2, Ctrl+A, A, and the confirmation that states the count); wait until they
    are applied. Returns the runs' ids."""
    console = window.services.console
    before = {r.id for r in console.runs_page(0, 100, workflow=WORKFLOW)}
    for name, text in files.items():
        drop_file(incoming, name, text)

    def fresh(status: str) -> list[int]:
        runs = console.runs_page(0, 100, workflow=WORKFLOW, status=status)
        return sorted(r.id for r in runs if r.id not in before)

    qtbot.waitUntil(lambda: len(fresh("awaiting_approval")) == len(files), timeout=WAIT_MS)
    run_ids = fresh("awaiting_approval")
    assert {r.mode for r in console.runs_page(0, 100, workflow=WORKFLOW) if r.id in run_ids} == {
        "staging"
    }
    pending = sum(len(console.run_writes(run_id)) for run_id in run_ids)
    activate(qtbot, window)
    press(qtbot, window, "Ctrl+2")
    inbox = window.page(nav.INBOX)
    qtbot.waitUntil(lambda: inbox.model.rowCount() == pending, timeout=WAIT_MS)
    assert before_approval()
    inbox.table.setFocus()
    press(qtbot, inbox.table, "Ctrl+A")
    press(qtbot, inbox.table, "A")
    qtbot.waitUntil(lambda: inbox.confirmation is not None, timeout=WAIT_MS)
    box = inbox.confirmation
    assert box.text() == f"Approve {pending} writes?"
    with qtbot.waitSignal(inbox.decision_finished, timeout=WAIT_MS):
        qtbot.mouseClick(box.buttons()[0], Qt.MouseButton.LeftButton)
    assert inbox.decisions.message.text() == f"{pending} writes approved."
    qtbot.waitUntil(lambda: fresh("succeeded") == run_ids, timeout=WAIT_MS)
    return run_ids


def review_staging_runs(qtbot, window, notes: str) -> str:
    """Record a review from the Reviews page's "runs awaiting review" list (Review...);
    returns what the page says afterwards."""
    activate(qtbot, window)
    press(qtbot, window, "Ctrl+6")
    reviews = window.page(nav.REVIEWS)
    qtbot.waitUntil(lambda: WORKFLOW in shown_column(reviews.runs_model, "Workflow"))
    click_row(qtbot, reviews.runs_table, row_with(reviews.runs_model, "Workflow", WORKFLOW))
    click(qtbot, reviews, "reviewButton")
    qtbot.waitUntil(lambda: reviews.dialog is not None and reviews.dialog.isVisible())
    qtbot.keyClicks(reviews.dialog.notes, notes)
    with qtbot.waitSignal(reviews.refreshed, timeout=WAIT_MS):
        click(qtbot, reviews.dialog, "recordReviewButton")
    return reviews.status.text()


def promote(qtbot, window) -> str:
    """Select invoice-intake on the Workflows page (Ctrl+3) and click Promote...;
    returns the message line (a refusal says what is missing, without a dialog)."""
    activate(qtbot, window)
    press(qtbot, window, "Ctrl+3")
    page = window.page(nav.WORKFLOWS)
    click_row(qtbot, page.table, page.model.row_of(WORKFLOW))
    page.say("")
    click(qtbot, page, "promoteButton")
    return page.message.text()


def test_the_dry_run_panel_counts_writes_by_action_and_shows_each_preview(qtbot, services) -> None:
    console = services.console
    console.import_workflow(workflow_yaml("wf-one"))
    run = make_run(console.db, "wf-one", status="succeeded", mode="dry_run")
    for seq, kind in enumerate(("copy_file", "send_email", "send_email"), start=1):
        write = make_write(console.db, run, seq=seq, kind=kind, status="planned")
        with write_transaction(console.db):
            Write.update(preview=f"preview of write {seq}").where(Write.id == write.id).execute()
    panel = DryRunPanel()
    qtbot.addWidget(panel)
    panel.show_result(DryRunResult(console.get_run(run.id), tuple(console.run_writes(run.id))))
    assert "3 planned writes (1 copy_file, 2 send_email)" in panel.status_text()
    assert panel.preview_text() == "preview of write 1"  # the first is selected
    click_row(qtbot, panel.writes, 2)
    assert panel.preview_text() == "preview of write 3"
