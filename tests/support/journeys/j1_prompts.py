"""Helpers for journey 1 with a prompt step (issue 17): the supplier reply to each
invoice is drafted by an AI provider (the local stand-in, tests/support/llm_server.py)
and sent by e-mail; the operations lead adds the AI connection in Settings."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from sophmate_desktop.ui.widgets.settings_connections import ConnectionDialog
from tests.support.journeys.j2 import CTRL, WAIT_MS, go_to, keys, modal_dialog, shown

NAME = "supplier-replies"
LLM = "drafting-llm"
SMTP = "supplier-smtp"

REPLY_STEPS = f"""\
  - action: prompt
    connection: {LLM}
    for_each: rows
    system: "You write short, polite replies to suppliers for the accounts team."
    prompt: |
      Draft a reply to {{{{ row.supplier }}}} confirming invoice {{{{ row.number }}}}
      over {{{{ row.amount }}}} EUR was received and will be paid in 30 days.
    max_tokens: 300
    as: reply
  - action: send_email
    connection: {SMTP}
    for_each: rows
    to: "{{{{ row.email }}}}"
    subject: "Invoice {{{{ row.number }}}} received"
    body: "{{{{ steps.reply.text }}}}"
    customer_facing: true
"""


def reply_workflow(folder: Path, out: Path) -> str:
    return f"""\
name: {NAME}
category: finance
owner: ops-lead
description: Confirm each supplier invoice with a drafted reply.
trigger: {json.dumps({"folder": str(folder), "patterns": ["*.csv"], "settle_ms": 100})}
input: {{read: csv, max_bytes: 1000000}}
output: {{paths: [{json.dumps(str(out))}], staging_paths: [{json.dumps(str(out))}]}}
steps:
{REPLY_STEPS.rstrip()}
approval: {{mode: until_reviewed, reviewed_runs: 1}}
retry: {{limit: 1, backoff_s: 0}}
notify: {{on_failure: [tray]}}
pause: {{consecutive_failures: 3, on_provider_change: true}}
rollback: Tell the suppliers by phone that the reply was sent in error.
"""


def add_llm_in_settings(qtbot, window, base_url: str, secret: str) -> None:
    """Settings (Ctrl+8) -> Connections -> New connection: kind llm, typed like a person."""
    settings = go_to(qtbot, window, 8)
    section = settings.connections
    qtbot.mouseClick(section.new_button, Qt.MouseButton.LeftButton)
    dialog = modal_dialog(qtbot)
    assert isinstance(dialog, ConnectionDialog)
    qtbot.keyClicks(dialog.name_edit, LLM)
    combo = dialog.kind_combo
    combo.setFocus()
    while combo.currentText() != "llm":
        keys(qtbot, combo, Qt.Key.Key_Down)
    assert dialog.kind_hint.isVisible() and "provider change" in dialog.kind_hint.text()
    assert "11434" in dialog.settings_edit.placeholderText()  # the Ollama-style example
    typed = {
        "provider": "openai",
        "base_url": base_url,
        "model": "gpt-x",
        "price_in": 2.5,
        "price_out": 10.0,
        "timeout_s": 10,
    }
    for edit in (dialog.settings_edit, dialog.staging_edit):
        edit.setFocus()
        keys(qtbot, edit, Qt.Key.Key_A, CTRL)
        qtbot.keyClicks(edit, json.dumps(typed))
    dialog.secret_combo.setFocus()
    qtbot.keyClicks(dialog.secret_combo.lineEdit(), secret)
    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    shown(qtbot, window)
    assert section.message.text() == f"Created connection {LLM}."
