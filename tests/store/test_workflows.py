"""Stored workflows that a newer rule refuses do not take the others down."""

from __future__ import annotations

import logging

from sophmate_desktop.console import Console
from sophmate_desktop.store import workflows
from sophmate_desktop.store.models import Workflow
from tests.support.engine import workflow_doc


def test_a_stored_workflow_that_no_longer_validates_is_left_out(sqlite_db, tmp_path, caplog):
    console = Console(sqlite_db, actor="ana")
    for name in ("good", "old"):
        console.import_workflow(workflow_doc(name, tmp_path / name, tmp_path / "out"))
    old = Workflow.get(Workflow.name == "old")
    definition = dict(old.definition)
    definition["steps"] = [
        {"action": "run_command", "argv": ["sh", "-c", "echo {{ file.name }}"]}
    ]  # what a file name says would run: refused since issue 14
    Workflow.update(definition=definition).where(Workflow.id == old.id).execute()
    with caplog.at_level(logging.ERROR, logger="sophmate_desktop.store.workflows"):
        loaded = workflows.load_workflows()
    assert [wf.name for wf in loaded] == ["good"]
    assert "workflow old no longer passes validation" in caplog.text
    assert "shell_quote" in caplog.text
