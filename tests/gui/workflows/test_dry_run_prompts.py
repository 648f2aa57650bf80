"""A manual dry run of a workflow with a prompt step ("Dry run on a file..."): the
panel lists the prompts it would send, each readable before any call is made, and
the stand-in provider receives nothing."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from sophmate_desktop.store.models import PromptCall
from tests.support.gui import click
from tests.support.llm_server import llm_server
from tests.support.prompts import add_llm, add_smtp, invoices_csv, prompt_workflow


def test_a_manual_dry_run_shows_each_prompt_before_any_is_sent(
    qtbot, page, console, find_dialog, tmp_path
):
    out = tmp_path / "out"
    out.mkdir()
    with llm_server() as provider:
        add_llm(console, provider.base_url)
        add_smtp(console)
        console.import_workflow(prompt_workflow("drafts", out))
        page.refresh()
        page.show_workflow("drafts")
        sample = invoices_csv(tmp_path / "in", 2)

        click(qtbot, page, "dryRunButton")
        dialog = find_dialog(QFileDialog)
        dialog.selectFile(str(sample))
        dialog.accept()
        panel = page.dry_run_panel
        qtbot.waitUntil(lambda: panel.run_id is not None, timeout=20000)

        assert provider.received == []
        assert "2 prompts: none sent (placeholder answers)" in panel.status_text()
        items = [panel.writes.topLevelItem(i) for i in range(panel.writes.topLevelItemCount())]
        assert [(i.text(1), i.text(2), i.text(3)) for i in items[:2]] == [
            ("prompt", "gpt-x about row 1", "placeholder"),
            ("prompt", "gpt-x about row 2", "placeholder"),
        ]
        assert [i.text(1) for i in items[2:]] == ["send_email", "send_email"]
        rect = panel.writes.visualItemRect(items[1])
        qtbot.mouseClick(panel.writes.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        shown = panel.preview_text()
        assert "Draft a reply to Supplier 2 about invoice INV-2." in shown
        assert "You draft short, polite replies to suppliers." in shown
        assert "[placeholder answer" in shown
        calls = PromptCall.select().where(PromptCall.run_id == panel.run_id)
        assert {c.status for c in calls} == {"placeholder"}
