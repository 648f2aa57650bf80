"""Journey 2: an approver clears the inbox before lunch (JOURNEYS.md).

The tray says "12 writes await approval" and its message opens the inbox; she filters
to finance, reads a file write's diff and a customer-facing e-mail, approves six with
A, rejects three in bulk with a comment, is refused one approval in place by the
four-eyes rule, and the run page tells who approved what and when. A real engine
applies the approved writes to real files and a real SMTP server.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMessageBox

from sophmate_desktop.console import Console
from sophmate_desktop.domain.run_account import parse_at
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import AuditEvent
from sophmate_desktop.ui import navigator as nav
from sophmate_desktop.ui.widgets.inbox_columns import CUSTOMER_COLOUR
from sophmate_desktop.ui.widgets.inbox_preview import ADDED, REMOVED
from tests.support.journeys.j2 import (
    CTRL,
    SHIFT,
    WAIT_MS,
    click_choice,
    click_row,
    email_step,
    go_to,
    keys,
    shown,
    staged,
    workflow_file,
    write_step,
)
from tests.support.mail import invoice_csv

WORKFLOW = "supplier-invoices"
COMMENT = "wrong supplier address"


def line_colours(page) -> dict[str, QColor]:
    """Each preview line -> the colour it is drawn in."""
    out = {}
    block = page.preview.text.document().begin()
    while block.isValid():
        fragment = block.begin().fragment() if block.text() else None
        out[block.text()] = fragment.charFormat().foreground().color() if fragment else QColor()
        block = block.next()
    return out


def decide_with_key(qtbot, page, key: Qt.Key) -> None:
    with qtbot.waitSignal(page.decision_finished, timeout=WAIT_MS):
        keys(qtbot, page.table, key)


def setup_finance(sqlite_url: str, tmp_path: Path, smtp: dict) -> tuple[Path, Path, str]:
    """Before the day starts: the lead set up the SMTP connection and the workflow."""
    incoming, out = tmp_path / "invoices", tmp_path / "accounting"
    incoming.mkdir()
    out.mkdir()
    doc = workflow_file(
        WORKFLOW,
        "finance",
        out,
        write_step("{{ output.path }}/ledger-{{ file.stem }}.txt",
                   "invoices: {{ input | length }}\nstatus: received\n")
        + email_step("supplier-smtp"),
        folder=incoming,
        patterns=("*.csv",),
        read="csv",
    )  # fmt: skip
    db = open_database(sqlite_url)
    lead = Console(db, actor="lead")
    lead.save_connection("supplier-smtp", "smtp", smtp, staging_settings=smtp)
    lead.import_workflow(doc)
    db.close()
    return incoming, out, doc


def test_an_approver_clears_the_inbox_before_lunch(
    qtbot,
    make_window,
    sqlite_url,
    tmp_path,
    mailbox,
):
    incoming, out, doc = setup_finance(sqlite_url, tmp_path, mailbox.settings())
    window = make_window("ana", start_engine=True)
    db = window.services.console.db
    lead = Console(db, actor="lead")
    lead.events.subscribe(window.services.engine.wake)
    sample = tmp_path / "sample.csv"
    sample.write_text(invoice_csv(1, first=900))
    staged(lead, window, WORKFLOW, sample)
    # Yesterday she tidied the workflow's description: she changed it last.
    Console(db, actor="ana").import_workflow(doc.replace("A journey workflow.", "Receipts."))
    for stem in ("march-a", "march-b"):  # the ledgers as they are now: a diff, not a new file
        (out / f"ledger-{stem}.txt").write_text("invoices: 0\nstatus: expected\n")
    shown(qtbot, window)
    assert window.current_page_key() == nav.DASHBOARD

    # Two exports arrive: each run plans a ledger update and five receipts to suppliers.
    (incoming / "march-a.csv").write_text(invoice_csv(5))
    (incoming / "march-b.csv").write_text(invoice_csv(5, first=6))

    # 1. The tray says "12 writes await approval"; clicking the message opens the inbox.
    first, page, second = _the_tray_message_opens_the_inbox(qtbot, window)

    # 2. Filter to finance (Ctrl+F reaches the filters; the category is chosen by key).
    _filters_to_finance(qtbot, page)

    # The file write's preview is a coloured diff of the ledger as it is and will be.
    _the_file_write_previews_as_a_diff(qtbot, page)

    # The e-mail is rendered as it will be sent, with a customer-facing badge.
    _the_email_previews_as_sent_with_a_badge(qtbot, page)

    # Approve six with A: each decision moves on to the next write.
    approved, approved_ids = _approves_six_with_a(qtbot, page, first, lead)

    # Select three e-mails of the second run and reject them together, with a comment.
    rejected_ids = _rejects_three_emails_with_a_comment(qtbot, window, page)

    # 3. Four eyes on (Settings): one approval is refused in place, naming the rule.
    left_for_a_colleague = _four_eyes_refuses_her_own_approval(qtbot, window, page, lead)

    # 4. The approved writes were applied, each after its decision: the ledger, the
    # receipts. (How soon after the decision: python -m bench.responsiveness.)
    _the_approved_writes_were_applied_after_their_decisions(
        qtbot, approved, approved_ids, lead, mailbox, rejected_ids
    )

    # The run page says who approved what and when (Ctrl+4, the run, Enter).
    _the_run_page_says_who_decided_what(qtbot, window, approved, approved_ids, first, second)

    # The audit trail has each decision with its actor and reason.
    events = list(
        AuditEvent.select()
        .where(AuditEvent.action.in_(["write.approved", "write.rejected"]))
        .order_by(AuditEvent.id)
    )
    assert [(e.action, e.actor, e.reason) for e in events] == [
        ("write.approved", "ana", None)
    ] * 6 + [("write.rejected", "ana", COMMENT)] * 3

    # She leaves the refused write for a colleague, who may approve it.
    [decision] = lead.approve([left_for_a_colleague])
    assert decision.ok, decision.message


def _the_tray_message_opens_the_inbox(qtbot, window):
    tray = window.tray
    qtbot.waitUntil(
        lambda: any(m[0] == "12 writes await approval" for m in tray.messages), timeout=WAIT_MS
    )
    assert [m for m in tray.messages if "await" in m[0]][-1] == (
        "12 writes await approval",
        "Open the inbox to review them.",
        ("inbox", None),
    )
    assert tray.state == "pending" and tray.inbox_action.text() == "&Inbox (12)"
    assert "12 writes await approval" in tray.tooltip
    tray.message_clicked()
    assert window.current_page_key() == nav.INBOX
    page = window.page(nav.INBOX)
    assert window.page_list.currentItem().text() == "Inbox (12)"
    qtbot.waitUntil(lambda: page.model.rowCount() == 12, timeout=WAIT_MS)
    # Oldest first: the run whose plan was stored first, then the other one.
    runs = list(dict.fromkeys(row.run_id for row in page.model.loaded_rows()))
    assert len(runs) == 2
    first, second = runs
    return first, page, second


def _filters_to_finance(qtbot, page) -> None:
    keys(qtbot, page.table, Qt.Key.Key_F, CTRL)
    combo = page.filter_bar.category
    assert combo.hasFocus()
    assert [combo.itemText(i) for i in range(combo.count())] == ["Any", "finance"]
    keys(qtbot, combo, Qt.Key.Key_Down)
    assert combo.currentText() == "finance" and page._filters.category == "finance"
    assert page.filter_bar.count.text() == "12 waiting"
    assert page.filter_bar.clear_button.isEnabled()
    rows = page.model.loaded_rows()
    assert {r.category for r in rows} == {"finance"} and len(rows) == 12


def _the_file_write_previews_as_a_diff(qtbot, page) -> None:
    click_row(qtbot, page.table, 0)
    assert page.model.row_at(0).kind == "write_file"
    colours = line_colours(page)
    assert colours["-invoices: 0"] == REMOVED and colours["+invoices: 5"] == ADDED
    assert colours["-status: expected"] == REMOVED and colours["+status: received"] == ADDED
    assert not page.preview.customer_badge.isVisible()


def _the_email_previews_as_sent_with_a_badge(qtbot, page) -> None:
    click_row(qtbot, page.table, 1)
    mail = page.model.row_at(1)
    assert (mail.kind, mail.customer_facing) == ("send_email", True)
    n = int(mail.target.removeprefix("supplier").split("@")[0])  # the CSV row's number
    text = page.preview.text.toPlainText()
    via, *message = text.splitlines()  # a staging run's mail says where it goes
    assert via.startswith("(staging: sent through the staging server 127.0.0.1:")
    assert message == [
        "From: accounts@example.test",
        f"To: supplier{n}@example.test",
        f"Subject: Invoice INV-{n:04} received",
        "",
        f"Dear Supplier {n},",
        f"we received invoice INV-{n:04} over {100 + n}.50 EUR.",
    ]
    badge = page.preview.customer_badge
    assert badge.isVisible() and badge.text() == "customer-facing"
    assert badge.property("badge") == "customer"
    column = 6  # "Customer"
    assert page.model.index(1, column).data() == "customer"
    assert page.model.index(1, column).data(Qt.ItemDataRole.ForegroundRole) == CUSTOMER_COLOUR


def _approves_six_with_a(qtbot, page, first, lead):
    click_row(qtbot, page.table, 0)
    approved_ids = []
    for n in range(6):
        approved_ids.append(page.table.current_id())
        decide_with_key(qtbot, page, Qt.Key.Key_A)
        assert page.decisions.message.text() == f"Write {approved_ids[-1]} approved."
        qtbot.waitUntil(lambda n=n: page.model.rowCount() == 11 - n)  # applying rows leave
    approved = [lead.get_write(i) for i in approved_ids]
    assert {w.run_id for w in approved} == {first} and all(w.decided_by == "ana" for w in approved)
    return approved, approved_ids


def _rejects_three_emails_with_a_comment(qtbot, window, page):
    qtbot.waitUntil(lambda: page.model.rowCount() == 6)  # the approved six applied
    assert page.model.row_at(0).kind == "write_file"
    click_row(qtbot, page.table, 1)
    click_row(qtbot, page.table, 3, SHIFT)
    rejected_ids = page.selected_ids()
    assert len(rejected_ids) == 3
    qtbot.mouseClick(page.decisions.comment, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(page.decisions.comment, COMMENT)
    qtbot.mouseClick(page.decisions.reject, Qt.MouseButton.LeftButton)
    box = page.confirmation
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert box.text() == "Reject 3 writes?"
    assert box.informativeText() == f"Comment: “{COMMENT}”"
    [yes] = [b for b in box.buttons() if b.text() == "Reject 3 writes"]
    with qtbot.waitSignal(page.decision_finished, timeout=WAIT_MS):
        qtbot.mouseClick(yes, Qt.MouseButton.LeftButton)
    assert page.decisions.message.text() == "3 writes rejected."
    shown(qtbot, window)  # the window manager gives the window back its activation
    assert page.table.hasFocus()
    qtbot.waitUntil(lambda: page.model.rowCount() == 3)
    return rejected_ids


def _four_eyes_refuses_her_own_approval(qtbot, window, page, lead):
    settings = go_to(qtbot, window, 8)
    assert settings is window.page(nav.SETTINGS)
    click_choice(qtbot, settings.four_eyes.buttons["on"])
    assert settings.four_eyes.effective.text() == "Four eyes is on for this database now."
    [four_eyes] = AuditEvent.select().where(AuditEvent.action == "setting.changed")
    assert (four_eyes.actor, four_eyes.subject, four_eyes.details["to"]) == (
        "ana",
        "four_eyes",
        True,
    )
    assert go_to(qtbot, window, 2) is page
    click_row(qtbot, page.table, 0)
    left_for_a_colleague = page.table.current_id()
    decide_with_key(qtbot, page, Qt.Key.Key_A)
    message = page.decisions.message
    assert message.isVisible() and message.property("level") == "error"
    assert message.text() == (
        f"you changed workflow {WORKFLOW} last; four-eyes rule: another person must approve"
    )
    assert page.table.current_id() == left_for_a_colleague  # still there, still selected
    assert lead.get_write(left_for_a_colleague).status == "pending"
    return left_for_a_colleague


def _the_approved_writes_were_applied_after_their_decisions(
    qtbot, approved, approved_ids, lead, mail_server, rejected_ids
) -> None:
    def all_applied() -> bool:
        return all(lead.get_write(i).status == "applied" for i in approved_ids)

    qtbot.waitUntil(all_applied, timeout=WAIT_MS)
    for write in (lead.get_write(i) for i in approved_ids):
        assert write.decided_by == "ana" and write.decided_at <= write.applied_at, write
    [ledger] = [w for w in approved if w.kind == "write_file"]
    assert Path(ledger.target).read_text() == "invoices: 5\nstatus: received\n"
    receipts = sorted(w.target for w in approved if w.kind == "send_email")
    assert len(receipts) == 5 and mail_server.recipients() == receipts
    rejected = [lead.get_write(i) for i in rejected_ids]
    assert {(w.status, w.decided_by, w.comment) for w in rejected} == {("rejected", "ana", COMMENT)}
    assert not {w.target for w in rejected} & set(mail_server.recipients())  # never sent


def _the_run_page_says_who_decided_what(
    qtbot, window, approved, approved_ids, first, second
) -> None:
    runs_page = go_to(qtbot, window, 4)
    assert runs_page is window.page(nav.RUNS)
    qtbot.waitUntil(lambda: runs_page.model.row_of(first) is not None, timeout=WAIT_MS)
    click_row(qtbot, runs_page.table, runs_page.model.row_of(first))
    keys(qtbot, runs_page.table, Qt.Key.Key_Return)
    panel = runs_page.panel
    assert runs_page.stack.currentWidget() is panel and panel.run_id == first
    decided_at = approved[0].decided_at
    first_approval = parse_at(AuditEvent.get(AuditEvent.action == "write.approved").at)
    account = panel.account_view.toPlainText()
    assert f"ana approved 6 at {first_approval:%H:%M}." in account
    assert "The 6 approved writes were applied" in account
    timeline = [
        (e.actor, e.subject)
        for e in panel.timeline_model.loaded_rows()
        if e.action == "write.approved"
    ]
    assert timeline == [("ana", f"write {i}") for i in approved_ids]
    writes = panel.writes_model.loaded_rows()
    assert sorted(w.id for w in writes) == sorted(approved_ids)
    decided_column = [
        panel.writes_model.index(r, 5).data() for r in range(panel.writes_model.rowCount())
    ]
    assert all(text.startswith(f"ana {decided_at:%Y-%m-%d %H:}") for text in decided_column)

    keys(qtbot, panel.account_view, Qt.Key.Key_Escape)
    click_row(qtbot, runs_page.table, runs_page.model.row_of(second))
    keys(qtbot, runs_page.table, Qt.Key.Key_Return)
    assert panel.run_id == second
    account = panel.account_view.toPlainText()
    rejected_at = parse_at(AuditEvent.get(AuditEvent.action == "write.rejected").at)
    assert f'ana rejected 3 at {rejected_at:%H:%M} ("{COMMENT}").' in account
    assert "3 writes wait for a person's decision in the inbox." in account


def test_the_inbox_keys_work_at_once_however_it_was_opened(qtbot, make_window, sqlite_url):
    """Ctrl+F reaches the filters after Ctrl+2 (the focus still in the side bar), and
    the tray's "open the inbox" puts the focus on the table, so A decides at once."""
    db = open_database(sqlite_url)
    lead = Console(db, actor="lead")
    lead.import_workflow(workflow_file(WORKFLOW, "finance", Path("/tmp/out"), write_step(
        "{{ output.path }}/a.txt", "a")))  # fmt: skip
    db.close()
    window = make_window("ana")
    shown(qtbot, window)
    page = window.page(nav.INBOX)
    assert window.page_list.item(1).text() == "Inbox"  # no "(0)" while nothing waits
    window.page_list.setFocus()
    assert go_to(qtbot, window, 2) is page and window.page_list.hasFocus()
    keys(qtbot, window.page_list, Qt.Key.Key_F, CTRL)
    assert page.filter_bar.category.hasFocus()

    from tests.support.factories import make_run, make_write

    run = make_run(window.services.console.db, WORKFLOW)
    write = make_write(window.services.console.db, run)
    go_to(qtbot, window, 1)
    window.tray.open_target(("inbox", None))
    assert window.current_page_key() == nav.INBOX
    qtbot.waitUntil(page.table.hasFocus)
    qtbot.waitUntil(lambda: page.table.current_id() == write.id)  # read in the background
    decide_with_key(qtbot, page, Qt.Key.Key_A)
    assert page.decisions.message.text() == f"Write {write.id} approved."
