"""End to end with a real engine: a person approves in the inbox and the write lands."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtGui import QColor

from sophmate_desktop.ui.widgets.inbox_preview import ADDED, HUNK, REMOVED
from tests.support.engine import staging_run, wait_until, workflow_doc
from tests.support.pages import decide, select_ids


def line_colours(page) -> dict[str, QColor]:
    """Each preview line's text -> the colour it is drawn in."""
    doc = page.preview.text.document()
    out = {}
    block = doc.begin()
    while block.isValid():
        fragment = block.begin().fragment() if block.text() else None
        colour = fragment.charFormat().foreground().color() if fragment else QColor()
        out[block.text()] = colour
        block = block.next()
    return out


def test_approve_one_write_and_see_it_applied(engine_services, make_page, qtbot, tmp_path):
    console, engine = engine_services.console, engine_services.engine
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.txt").write_text("total: 10\nstatus: draft\n")
    sample = tmp_path / "report.txt"
    sample.write_text("total: 12\nstatus: final\n")
    run_id = staging_run(console, engine, "reports", workflow_doc("reports", None, out), sample)
    page = make_page(engine_services)
    with qtbot.waitSignal(page.title_changed, timeout=2000) as title:
        page.refresh()
    assert title.args == ["Inbox (1)"]
    [row] = page.model.loaded_rows()
    assert (row.workflow, row.kind, row.status) == ("reports", "write_file", "pending")
    assert page.table.selectionModel().isRowSelected(0)

    # the preview is a coloured unified diff of the file as it is and as it will be
    colours = line_colours(page)
    assert colours["-total: 10"] == REMOVED and colours["+total: 12"] == ADDED
    assert any(text.startswith("@@") and c == HUNK for text, c in colours.items())

    decide(qtbot, page, page.decisions.approve)  # one write: no confirmation
    assert page.confirmation is None
    qtbot.waitUntil(lambda: page.model.rowCount() == 0)  # applying, then applied: gone
    assert "approved" in page.decisions.message.text()
    wait_until(lambda: (out / "report.txt").read_text() == sample.read_text(), 1.0, "the write")
    assert engine.wait_for_run(run_id, 10, until=("succeeded", "failed")) == "succeeded"
    [write] = console.run_writes(run_id)
    assert (write.status, write.decided_by) == ("applied", "ana")
    approved = console.list_audit(action="write.approved")
    assert [(e.actor, e.run) for e in approved] == [("ana", run_id)]
    qtbot.waitUntil(lambda: page.filter_bar.count.text() == "0 waiting")


def test_previews_of_request_message_and_command(engine_services, make_page, qtbot, tmp_path):
    console, engine = engine_services.console, engine_services.engine
    console.set_secret("api_token", "tok-very-secret-1")
    base = {"base_url": "http://127.0.0.1:9/api"}
    console.save_connection("hooks", "http", base, staging_settings=base, secret_ref="api_token")
    smtp = {"host": "127.0.0.1", "port": 2599, "from": "robot@example.test"}
    console.save_connection("mail", "smtp", smtp, staging_settings=smtp)
    steps = """\
  - action: http_request
    connection: hooks
    method: POST
    path: /orders
    headers: {Authorization: "Bearer {{ secret.api_token }}"}
    json: {file: "{{ file.name }}"}
    customer_facing: true
  - action: send_email
    connection: mail
    to: ["ana@example.test"]
    subject: "Report {{ file.name }}"
    body: "Dear Ana,\\nall good."
  - action: run_command
    argv: ["echo", "two words", "{{ file.name }}"]
"""
    out = tmp_path / "out"
    doc = workflow_doc("mixed", None, out, steps=steps)
    sample = tmp_path / "in.txt"
    sample.write_text("x")
    staging_run(console, engine, "mixed", doc, sample)
    page = make_page(engine_services)
    by_kind = {row.kind: i for i, row in enumerate(page.model.loaded_rows())}
    assert set(by_kind) == {"http_request", "send_email", "run_command"}
    assert page.model.loaded_rows()[by_kind["http_request"]].customer_facing

    def preview_of(kind: str) -> str:
        select_ids(page, [page.model.loaded_rows()[by_kind[kind]].id])
        return page.preview.text.toPlainText()

    request = preview_of("http_request")
    assert request.splitlines()[0] == "POST http://127.0.0.1:9/api/orders"
    assert "Authorization: Bearer ${secret:api_token}" in request
    assert "tok-very-secret-1" not in request
    assert json.loads(request.split("\n\n", 1)[1]) == {"file": "in.txt"}
    assert "customer-facing" in page.preview.facts.text()
    message = preview_of("send_email")
    assert "To: ana@example.test" in message and "Subject: Report in.txt" in message
    assert message.endswith("Dear Ana,\nall good.")
    command = preview_of("run_command")
    assert command.splitlines()[0] == "$ echo 'two words' in.txt"
    assert "  [1] two words" in command and "  [2] in.txt" in command
    assert Path(out).exists() is False  # nothing was applied: nobody approved
