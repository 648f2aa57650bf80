"""`runs show ID`: the plain-language account first, then the fields, writes and
timeline; `--json` carries the account too; an unknown id is bad input (exit 2)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from sophmate_desktop.console import Console
from sophmate_desktop.domain.enums import EffectKind
from sophmate_desktop.engine.actions import affected_records
from sophmate_desktop.engine.actions.base import PlannedWrite
from sophmate_desktop.store import workflows as store_workflows
from sophmate_desktop.store.database import open_database, write_transaction
from sophmate_desktop.store.models import Workflow
from sophmate_desktop.store.transitions import intake as records
from sophmate_desktop.store.transitions import outcomes
from tests.support.run_flow import WORKFLOW

HOST = f"{socket.gethostname()}:{os.getpid()}"


def approved_and_applied_run(url: str) -> int:
    """A staging run of invoice-intake: one e-mail planned, approved by ana, applied."""
    db = open_database(url)
    try:
        Console(db, actor="lead").import_workflow(WORKFLOW)
        with write_transaction(db):
            Workflow.update(stage="staging", enabled=True).execute()
        path = Path("/srv/in/invoices/acme-17.csv")
        offer = records.Offer("invoice-intake", "file", path, 3200, 1, "cd" * 32)
        [(run_id, _)] = records.record_offers(db, [offer], HOST)
        assert records.claim_run(db, run_id, HOST)
        wf = store_workflows.load_workflow(Workflow.get(Workflow.name == "invoice-intake"))
        email = PlannedWrite("send_email", EffectKind.EMAIL, "c@example.test", "mail", "To: c", {})
        records.store_plan(db, run_id, wf, [email], 3200, 0, affected_records([email]))
        ana = Console(db, actor="ana")
        [write] = ana.run_writes(run_id)
        assert ana.approve([write.id], "totals match")[0].ok
        assert outcomes.begin_apply(db, write.id, HOST)[0] is not None
        assert outcomes.finish_apply(db, write.id) == "succeeded"
        return run_id
    finally:
        db.close()


def test_runs_show_prints_the_account_then_the_details(cli, sqlite_url) -> None:
    run_id = approved_and_applied_run(sqlite_url)
    result = cli("runs", "show", run_id)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == f"Run {run_id} of invoice-intake succeeded"
    account, details = result.out.split("\nDetails:\n", 1)
    flat = " ".join(account.split())
    assert "because invoices/acme-17.csv (3.2 kB) arrived in /srv/in." in flat
    assert "It ran in staging (the workflow is in staging) and planned 1 write for 1 record." in (
        flat
    )
    assert "ana approved the write at" in flat and '("totals match")' in flat
    assert "send_email to c@example.test: applied" in flat
    assert "run:" in details and "Writes (1):" in details and "Timeline (" in details
    assert "write.approved" in details


def test_runs_show_json_carries_the_account(cli, sqlite_url) -> None:
    run_id = approved_and_applied_run(sqlite_url)
    result = cli("runs", "show", run_id, "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["run"]["id"] == run_id
    assert data["account"]["headline"] == f"Run {run_id} of invoice-intake succeeded"
    assert data["account"]["paragraphs"][0].startswith(f"Run {run_id} of invoice-intake started")
    assert data["account"]["bullets"] == ["send_email to c@example.test: applied"]
    assert [e["action"] for e in data["timeline"]][:3] == [
        "run.queued",
        "run.started",
        "run.planned",
    ]


def test_runs_show_unknown_id_is_bad_input(cli) -> None:
    cli("category", "list")  # creates the database
    result = cli("runs", "show", 999)
    assert result.code == 2
    assert result.out == ""
    assert result.err.strip() == "error: no run with id 999"
