"""Journey 3: something goes wrong on a Friday afternoon (JOURNEYS.md).

The SMTP connection is changed in Settings: the workflows that use it pause
themselves, the tray says why, their reviews become due. Another workflow fails after
its retries: one tray notice, it pauses itself, the dashboard keeps the failure until
someone acknowledges it. Then Pause all (Ctrl+Shift+P, "hosting incident") kills a
running command and holds new files, under a red banner; on Monday the categories are
resumed one by one, each with its held runs replayed or discarded, all audited; and
every workflow that paused itself is resumed from the kill-switch panel with a reason,
its due review recorded with the resume.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QPlainTextEdit

from sophmate_desktop.console import Console
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import AuditEvent, Write
from sophmate_desktop.ui import navigator as nav
from sophmate_desktop.ui.widgets.settings_connections import ConnectionDialog
from tests.support.journeys.j2 import (
    CTRL,
    SHIFT,
    WAIT_MS,
    click_choice,
    click_row,
    command_step,
    go_to,
    keys,
    modal_dialog,
    shown,
    staged,
    workflow_file,
    write_step,
)

SMTP = "supplier-smtp"
MAIL_STEP = f"""\
  - action: send_email
    connection: {SMTP}
    to: "accounts@example.test"
    subject: "Statement"
    body: "Your statement is ready."
"""
COPY = write_step("{{ output.path }}/{{ file.name }}", "{{ input }}")
SLEEPER = command_step([sys.executable, "-c", "import time; time.sleep(60)"])


def audit(action: str) -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id))


def setup_friday(sqlite_url: str, tmp_path: Path, smtp_settings: dict) -> dict[str, Path]:
    """What runs on this desktop: two finance workflows send through the SMTP
    connection, status files are imported, reports archived, invoices filed, and a
    clean-up command (in maintenance) is started by hand."""
    folders = {n: tmp_path / n for n in ("status", "reports", "invoices", "out")}
    for folder in folders.values():
        folder.mkdir()
    out = folders["out"]
    docs = [
        workflow_file("supplier-receipts", "finance", out, MAIL_STEP),
        workflow_file("dunning-letters", "finance", out, MAIL_STEP),
        workflow_file("invoice-filing", "finance", out, COPY, folder=folders["invoices"]),
        workflow_file(
            "status-import",
            "integrations",
            out,
            COPY,
            folder=folders["status"],
            patterns=("*.json",),
            read="json",
            retry=2,  # three attempts in a row
            failures=1,  # and it pauses itself once a run failed after its retries
        ),
        workflow_file("report-archive", "reporting", out, COPY, folder=folders["reports"]),
        workflow_file("nightly-cleanup", "maintenance", out, SLEEPER),
    ]
    db = open_database(sqlite_url)
    lead = Console(db, actor="lead")
    lead.save_connection(SMTP, "smtp", smtp_settings, staging_settings=smtp_settings)
    for doc in docs:
        row = lead.import_workflow(doc)
        if row.name != "nightly-cleanup":  # promoted to staging once the engine runs
            lead.enable_workflow(row.name)
    db.close()
    return folders


def start_the_cleanup(qtbot, window, lead: Console, tmp_path: Path):
    """The clean-up command runs (approved by the lead) when the incident starts."""
    engine = window.services.engine
    sample = tmp_path / "sample.txt"
    sample.write_text("x")
    staged(lead, window, "nightly-cleanup", sample)
    run_id = engine.run_now("nightly-cleanup", None)
    assert engine.wait_for_run(run_id, 10) == "awaiting_approval"
    [write] = lead.run_writes(run_id)
    [decision] = lead.approve([write.id])
    assert decision.ok, decision.message

    def processes() -> list:
        return [p for flight in engine.inflight.snapshot() for p in flight.processes]

    qtbot.waitUntil(lambda: bool(processes()), timeout=WAIT_MS)
    [process] = processes()
    return write.id, process


def test_friday_afternoon(qtbot, make_window, sqlite_url, tmp_path, mailbox):
    folders = setup_friday(sqlite_url, tmp_path, mailbox.settings())
    window = make_window("ana", start_engine=True)
    console = window.services.console
    lead = Console(console.db, actor="lead")
    lead.events.subscribe(window.services.engine.wake)
    cleanup_write, cleanup_process = start_the_cleanup(qtbot, window, lead, tmp_path)
    shown(qtbot, window)
    tray, banner, panel = window.tray, window.paused_banner, window.kill_switch_panel
    assert tray.state == "ok"

    # 1. The SMTP provider changed its settings: Settings -> Connections -> Edit.
    _the_smtp_change_pauses_the_workflows_that_mail(qtbot, window, console, mailbox)

    # The tray turns to its paused state and says why, one message per workflow.
    _the_tray_and_the_banner_say_why(qtbot, banner, tray)

    # Their provider-change reviews are due (the Reviews page, Ctrl+6).
    _their_provider_change_reviews_are_due(qtbot, window)

    # 2. A different workflow fails three times in a row (two retries): one tray
    # notice, after the last retry; it pauses itself.
    run = _three_failures_in_a_row_make_one_notice(qtbot, console, folders, tray)

    # The dashboard lists the failure until someone acknowledges it (Ctrl+1).
    _the_dashboard_lists_the_failure_until_acknowledged(qtbot, window, run)

    # 3. A hosting incident: Pause all from the keyboard, with the reason.
    _pause_all_kills_the_running_command(qtbot, window, cleanup_process, cleanup_write, lead, panel)

    # New files become held runs, in two categories.
    held = _new_files_are_held_under_a_red_banner(qtbot, console, banner, folders, panel, tray)

    # 4. Monday: resume everything category by category.
    categories = _resume_all_by_category_keeps_each_category_paused(qtbot, window, console, panel)

    _resumes_the_categories_one_by_one(qtbot, window, panel)

    _the_held_runs_went_as_chosen(qtbot, console, banner, categories, held)

    # 5. The workflows that paused themselves are resumed from the panel, each with a
    # reason, and the review its pause made due is recorded with it.
    _every_self_paused_workflow_is_resumed_with_its_review(qtbot, window, console, panel, banner)


def _the_smtp_change_pauses_the_workflows_that_mail(qtbot, window, console, mail_server) -> None:
    settings = go_to(qtbot, window, 8)
    assert settings is window.page(nav.SETTINGS)
    section = settings.connections
    click_row(qtbot, section.table, 0)
    assert section.selected_row().name == SMTP
    qtbot.mouseClick(section.edit_button, Qt.MouseButton.LeftButton)
    dialog = modal_dialog(qtbot)
    assert isinstance(dialog, ConnectionDialog)
    assert dialog.impact.text().startswith(
        "Used by dunning-letters (pauses on a change), supplier-receipts (pauses on a change)."
    )
    changed = dict(mail_server.settings(), port=mail_server.port, host="localhost")
    edit: QPlainTextEdit = dialog.settings_edit
    edit.setFocus()
    keys(qtbot, edit, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(edit, json.dumps(changed))
    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    shown(qtbot, window)
    assert section.message.text() == (
        f"Saved connection {SMTP}. Review now due for: dunning-letters, supplier-receipts. "
        "Paused until someone resumes them: dunning-letters, supplier-receipts (see Workflows)."
    )
    assert console.list_connections()[0].settings["host"] == "localhost"
    assert [(w.name, w.paused_by, w.paused_reason) for w in console.paused_workflow_rows()] == [
        (name, "policy", f"connection {SMTP} changed")
        for name in ("dunning-letters", "supplier-receipts")
    ]
    assert not console.get_workflow("invoice-filing").paused  # it sends no e-mail


def _the_tray_and_the_banner_say_why(qtbot, banner, tray) -> None:
    qtbot.waitUntil(lambda: tray.state == "paused", timeout=WAIT_MS)
    assert "Workflows paused: dunning-letters, supplier-receipts" in tray.tooltip
    qtbot.waitUntil(lambda: len(tray.messages) == 2, timeout=WAIT_MS)
    assert sorted(tray.messages) == [
        (
            f"{name} paused itself: connection {SMTP} changed",
            "Owner: ops-lead. Review it, then resume it.",
            ("workflow", name),
        )
        for name in ("dunning-letters", "supplier-receipts")
    ]
    qtbot.waitUntil(banner.isVisible, timeout=WAIT_MS)
    assert "workflow supplier-receipts (by policy " in banner.text()
    assert f": connection {SMTP} changed)" in banner.text()


def _their_provider_change_reviews_are_due(qtbot, window) -> None:
    reviews = go_to(qtbot, window, 6)
    assert reviews is window.page(nav.REVIEWS)

    def provider_reviews() -> list[str]:
        rows = reviews.due_model.loaded_rows()
        return sorted(r.workflow for r in rows if r.kind == "provider_change")

    qtbot.waitUntil(
        lambda: provider_reviews() == ["dunning-letters", "supplier-receipts"], timeout=WAIT_MS
    )
    [changed_event] = audit("connection.changed")
    assert (changed_event.actor, changed_event.subject) == ("ana", SMTP)
    assert sorted(e.subject for e in audit("workflow.auto_paused")) == [
        "dunning-letters",
        "supplier-receipts",
    ]


def _three_failures_in_a_row_make_one_notice(qtbot, console, folders, tray):
    before = len(tray.messages)
    (folders["status"] / "broken.json").write_text("{not json")
    qtbot.waitUntil(lambda: console.get_workflow("status-import").paused, timeout=WAIT_MS)
    [run] = console.list_runs("status-import")
    assert (run.status, run.attempt) == ("failed", 3)
    assert len(audit("run.retry_scheduled")) == 2
    qtbot.waitUntil(lambda: tray.state == "failure", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: len(tray.messages) > before, timeout=WAIT_MS)
    [(title, body, target)] = tray.messages[before:]
    assert title == f"status-import: run {run.id} failed; it paused itself"
    assert target == ("run", run.id)
    error, why = body.split("\n")
    assert error.startswith(f"input file {folders['status'] / 'broken.json'} is not valid JSON")
    assert why.startswith("status-import paused itself: ")
    return run


def _the_dashboard_lists_the_failure_until_acknowledged(qtbot, window, run) -> None:
    dashboard = go_to(qtbot, window, 1)
    assert dashboard is window.page(nav.DASHBOARD)

    def listed() -> list[str]:
        return [r.title for r in dashboard.failures.rows()]

    qtbot.waitUntil(lambda: listed() == [f"status-import: run {run.id} failed"], timeout=WAIT_MS)
    go_to(qtbot, window, 4)
    go_to(qtbot, window, 1)  # still there when she comes back
    qtbot.waitUntil(lambda: listed() == [f"status-import: run {run.id} failed"], timeout=WAIT_MS)
    click_row(qtbot, dashboard.failures, 0)
    qtbot.mouseClick(dashboard.acknowledge_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: listed() == [], timeout=WAIT_MS)
    [ack] = audit("notice.acknowledged")
    assert (ack.actor, ack.workflow, ack.run) == ("ana", "status-import", run.id)


def _pause_all_kills_the_running_command(
    qtbot, window, cleanup_process, cleanup_write, lead, panel
) -> None:
    assert cleanup_process.poll() is None and lead.get_write(cleanup_write).status == "applying"
    keys(qtbot, window, Qt.Key.Key_P, CTRL, SHIFT)
    qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible())
    pause = panel.dialog
    assert pause.windowTitle() == "Pause everything"
    qtbot.keyClicks(pause.reason_edit, "hosting incident")
    keys(qtbot, pause.reason_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.dialog is None, timeout=WAIT_MS)
    shown(qtbot, window)

    # The running command is killed at once.
    qtbot.waitUntil(lambda: cleanup_process.poll() is not None, timeout=2000)
    qtbot.waitUntil(lambda: lead.get_write(cleanup_write).status == "failed", timeout=2000)
    assert "killed" in Write.get_by_id(cleanup_write).error


def _new_files_are_held_under_a_red_banner(qtbot, console, banner, folders, panel, tray):
    (folders["reports"] / "q3.txt").write_text("Q3")
    (folders["reports"] / "q4.txt").write_text("Q4")
    (folders["invoices"] / "inv-7.txt").write_text("invoice 7")
    qtbot.waitUntil(lambda: len(console.list_held()) == 3, timeout=WAIT_MS)
    held = {r.workflow: [] for r in console.list_held()}
    for r in console.list_held():
        held[r.workflow].append(r.id)
    assert sorted((k, len(v)) for k, v in held.items()) == [
        ("invoice-filing", 1),
        ("report-archive", 2),
    ]

    # A red banner says who paused what and why; Pause all turned into Resume all.
    qtbot.waitUntil(lambda: banner.text().startswith("Paused: everything (by ana "))
    assert banner.text().split(" · ")[0].endswith(": hosting incident)")
    assert banner.property("paused") is True
    assert panel.pause_all_button.text() == "Resume all…"
    # the panel counts the held runs once its (debounced) re-read has seen all three
    qtbot.waitUntil(
        lambda: "3 held runs waiting." in panel.pause_all_button.toolTip(), timeout=WAIT_MS
    )
    assert "Paused: everything" in tray.tooltip
    return held


def _resume_all_by_category_keeps_each_category_paused(qtbot, window, console, panel):
    qtbot.mouseClick(panel.pause_all_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible())
    resume = panel.dialog
    assert resume.held_box.title() == "3 held runs waiting"
    click_choice(qtbot, resume.by_category_check)
    assert not resume.held_box.isEnabled()
    qtbot.keyClicks(resume.reason_edit, "hosting is back; categories one by one")
    qtbot.mouseClick(resume.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.dialog is None, timeout=WAIT_MS)
    shown(qtbot, window)
    categories = ("finance", "integrations", "maintenance", "reporting")
    for name in categories:
        row = next(r for r in console.list_switches() if r.name == name)
        assert (row.paused, row.paused_by, row.paused_reason) == (True, "ana", "hosting incident")
    qtbot.waitUntil(
        lambda: (
            panel.switch_button("category", "reporting").text() == "reporting — paused, 2 held runs"
        )
    )
    assert panel.switch_button("category", "finance").text() == "finance — paused, 1 held run"
    assert len(console.list_held()) == 3  # nothing replayed or discarded yet
    return categories


def _resumes_the_categories_one_by_one(qtbot, window, panel) -> None:
    def resume_category(name: str, reason: str, choice: str | None, title: str | None):
        qtbot.mouseClick(panel.switch_button("category", name), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible())
        dialog = panel.dialog
        assert dialog.windowTitle() == f"Resume {name}"
        assert (dialog.held_box.title() if dialog.held_box else None) == title
        qtbot.keyClicks(dialog.reason_edit, reason)
        if choice is not None:
            click_choice(qtbot, dialog.held_buttons[choice])
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.dialog is None, timeout=WAIT_MS)
        shown(qtbot, window)

    resume_category("finance", "the supplier re-sent that invoice", "discard", "1 held run waiting")
    resume_category("reporting", "reports are wanted", "replay", "2 held runs waiting")
    resume_category("integrations", "status feed is back", None, None)
    resume_category("maintenance", "clean-up may run again", None, None)


def _the_held_runs_went_as_chosen(qtbot, console, banner, categories, held) -> None:
    assert console.get_run(held["invoice-filing"][0]).status == "cancelled"
    for run_id in held["report-archive"]:
        qtbot.waitUntil(lambda r=run_id: console.get_run(r).status == "succeeded", timeout=WAIT_MS)
    resumed = {e.subject: e for e in audit("category.resumed")}
    assert {
        k: (e.actor, e.details["held_choice"], e.details["held_count"]) for k, e in resumed.items()
    } == {
        "finance": ("ana", "discard", 1),
        "reporting": ("ana", "replay", 2),
        "integrations": ("ana", "keep", 0),
        "maintenance": ("ana", "keep", 0),
    }
    [everything] = audit("global.resumed")
    assert everything.details["held_choice"] == "by_category"
    assert everything.details["kept_paused"] == list(categories)
    [discarded] = audit("held.discarded")
    [replayed] = audit("held.replayed")
    assert (discarded.actor, discarded.details["count"], discarded.reason) == (
        "ana",
        1,
        "the supplier re-sent that invoice",
    )
    assert (replayed.actor, replayed.details["count"]) == ("ana", 2)
    # the banner catches up with the last resume (debounced): only the workflows' own
    # pauses remain
    qtbot.waitUntil(lambda: "hosting incident" not in banner.text(), timeout=WAIT_MS)
    assert not banner.text().startswith("Paused: everything")


def _every_self_paused_workflow_is_resumed_with_its_review(
    qtbot, window, console, panel, banner
) -> None:
    expected = {
        "dunning-letters": ("provider_change", "a connection it uses changed"),
        "supplier-receipts": ("provider_change", "a connection it uses changed"),
        "status-import": ("after_failure", "its runs failed too many times in a row"),
    }
    qtbot.waitUntil(
        lambda: {k[1] for k in panel.buttons if k[0] == "workflow"} == set(expected),
        timeout=WAIT_MS,
    )
    control = panel.workflow_switch
    for name, (review, cause) in sorted(expected.items()):
        qtbot.mouseClick(panel.switch_button("workflow", name), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: control.dialog is not None and control.dialog.isVisible())
        dialog = control.dialog
        assert dialog.windowTitle() == f"Resume workflow {name}"
        explanation = dialog.findChild(QLabel, "dialogExplanation").text()
        assert "paused by itself at " in explanation and f"because {cause}" in explanation
        assert dialog.review_check is not None and not dialog.review_check.isChecked()
        assert dialog.review_check.text().startswith(f"Record the {review.replace('_', '-')} ")
        click_choice(qtbot, dialog.review_check)
        qtbot.keyClicks(dialog.reason_edit, f"checked {name} after the incident")
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: control.dialog is None, timeout=WAIT_MS)
        qtbot.waitUntil(lambda n=name: not console.get_workflow(n).paused, timeout=WAIT_MS)
        shown(qtbot, window)
    resumed = {e.subject: e for e in audit("workflow.resumed")}
    assert {k: (e.actor, e.reason, e.details["cause"]) for k, e in resumed.items()} == {
        "dunning-letters": ("ana", "checked dunning-letters after the incident", "provider_change"),
        "supplier-receipts": (
            "ana",
            "checked supplier-receipts after the incident",
            "provider_change",
        ),
        "status-import": (
            "ana",
            "checked status-import after the incident",
            "consecutive_failures",
        ),
    }
    reviews = {
        (e.workflow, e.actor, e.details["kind"])
        for e in audit("review.recorded")
        if e.workflow in expected
    }
    assert reviews == {(name, "ana", review) for name, (review, _) in expected.items()}
    still_due = {(r.workflow, r.kind) for r in console.reviews_due()}
    assert not still_due & {(name, review) for name, (review, _) in expected.items()}
    assert console.paused_workflow_rows() == []
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not any(k[0] == "workflow" for k in panel.buttons), timeout=WAIT_MS)


def test_failures_that_paused_their_workflows_are_one_tray_message(qtbot, make_window):
    """Several failures and the pauses they caused, committed together: one message
    that names the failed workflows and those that paused themselves."""
    window = make_window("ana")
    console = window.services.console
    with console.transaction():
        for wf, run in (("intake", 1), ("exports", 2)):
            console.notify("error", "run_failed", f"{wf}: run {run} failed", workflow=wf, run=run)
        console.notify(
            "warning", "auto_paused", "intake paused itself: 3 consecutive failed runs",
            workflow="intake",
        )  # fmt: skip
    qtbot.waitUntil(lambda: bool(window.tray.messages), timeout=WAIT_MS)
    assert window.tray.messages == [
        ("2 runs failed", "exports, intake\nPaused themselves: intake", ("notifications", None))
    ]
