"""`demo`: example categories, connections and workflows on sample files, run by the
real engine, so the database holds real dry runs, staging runs, pending writes, a
failed run with diagnostics, held runs and an audit trail."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from sophmate_desktop.console import Console
from sophmate_desktop.domain.workflow_file import (
    definition_from_dict,
    definition_to_dict,
    parse_workflow_yaml,
)
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.resources import example_workflows
from sophmate_desktop.store.transitions.intake import count_as_watched

INVOICE_CSV = """number,supplier,email,amount
INV-1001,Acme Paper,billing@acme.example.test,120.50
INV-1002,Northwind,accounts@northwind.example.test,89.00
INV-1003,Globex,ap@globex.example.test,1460.00
"""


def _folders(root: Path) -> dict[str, Path]:
    names = {
        "invoices_in": "invoices/incoming",
        "accounting": "accounting/inbox",
        "accounting_staging": "accounting/staging",
        "reports_in": "reports/outgoing",
        "archive": "archive/reports",
        "archive_staging": "archive/staging",
        "status_out": "status/outbox",
        "scratch": "scratch",
        "scratch_staging": "scratch-staging",
    }
    out = {k: root / v for k, v in names.items()}
    for path in out.values():
        path.mkdir(parents=True, exist_ok=True)
    return out


def _relocate(doc: dict, folders: dict[str, Path]) -> dict:
    """Point an example workflow at the demo folders."""
    by_name = {
        "invoice-intake": ("invoices_in", "accounting", "accounting_staging"),
        "report-archive": ("reports_in", "archive", "archive_staging"),
        "status-webhook": ("status_out", "status_out", None),
        "nightly-cleanup": (None, "scratch", "scratch_staging"),
    }
    trigger_key, out_key, staging_key = by_name.get(doc["name"], (None, None, None))
    if trigger_key and "trigger" in doc:
        doc["trigger"]["folder"] = str(folders[trigger_key])
    if out_key and "output" in doc:
        doc["output"]["paths"] = [str(folders[out_key])]
        if staging_key:
            doc["output"]["staging_paths"] = [str(folders[staging_key])]
    if "notify" in doc:  # the demo stays on this machine: no webhooks, no mail
        doc["notify"]["on_failure"] = ["tray"]
    if doc["name"] == "status-webhook":
        doc["retry"]["backoff_s"] = 1  # the demo shows the failed run after its retries
    return doc


def _wait_applied(console: Console, write_ids: list[int], timeout: float) -> None:
    """Stopping the engine while an approved write is applying would kill it."""
    deadline = time.monotonic() + timeout
    waiting = {"approved", "applying"}
    while any(console.get_write(i).status in waiting for i in write_ids):
        if time.monotonic() > deadline:
            raise TimeoutError(f"writes {write_ids} were not applied within {timeout} s")
        threading.Event().wait(0.05)


def load_demo(
    lead: Console, approver: Console, root: Path, progress: Callable[[str], None] = print
) -> dict[str, int]:
    """Fill the database; returns counts of what was made."""
    folders = _folders(root)
    progress(f"demo files in {root}")
    lead.save_connection(
        "supplier-smtp",
        "smtp",
        {"host": "127.0.0.1", "port": 2525, "from": "ap@example.test"},
        staging_settings={"host": "127.0.0.1", "port": 2526, "from": "ap-staging@example.test"},
    )
    lead.save_connection(
        "status-api",
        "http",
        {"base_url": "http://127.0.0.1:9/status"},
        secret_ref="status_api_token",
    )
    for path in example_workflows():
        doc = definition_to_dict(parse_workflow_yaml(path.read_bytes()))
        lead.save_definition(definition_from_dict(_relocate(doc, folders)))
        progress(f"imported {doc['name']}")

    invoice = folders["invoices_in"] / "2026-10-suppliers.csv"
    invoice.write_text(INVOICE_CSV)
    report = folders["reports_in"] / "q3-report.pdf"
    report.write_bytes(b"%PDF-1.4\n% demo report\n")
    broken = folders["status_out"] / "status-broken.json"
    broken.write_text('{"service": "billing", "state": ')

    engine = Engine(lead.db, secrets=lead.secrets, watch=False)
    lead.events.subscribe(engine.wake)
    approver.events.subscribe(engine.wake)
    engine.start()
    try:

        def run(name: str, file: Path | None = None, mode: str | None = None) -> int:
            run_id = engine.run_now(name, file, actor=lead.actor, mode=mode)
            status = engine.wait_for_run(run_id, timeout=60)
            progress(f"run {run_id} of {name}: {status}")
            return run_id

        run("invoice-intake", invoice)  # dry run: 1 copy + 3 e-mails planned
        run("status-webhook", broken)  # fails: broken JSON, with diagnostics
        run("report-archive", report)
        lead.record_review("report-archive", "first_run", notes="Plan checked on the Q3 report.")
        lead.promote("report-archive", "staging")
        lead.enable_workflow("report-archive")
        staging_runs = [run("report-archive", report) for _ in range(2)]
        # report-archive watches the folder the report lies in: its first staging run
        # is that file version's run, or the window's engine would run it again.
        count_as_watched(lead.db, staging_runs[0])
        first_writes = [w.id for w in approver.run_writes(staging_runs[0])]
        approver.approve(first_writes, comment="Receipt text checked.")
        _wait_applied(approver, first_writes, timeout=60)
        engine.wait_idle(60)
        lead.pause_category("maintenance", reason="demo: scratch disk replaced this week")
        for _ in range(3):
            run("nightly-cleanup")  # held while maintenance is paused
    finally:
        engine.stop()
    counts = {
        "workflows": len(lead.list_workflows()),
        "runs": len(lead.list_runs(limit=10000)),
        "pending_writes": len(lead.list_inbox(limit=100000)),
        "held_runs": len(lead.list_held()),
    }
    progress("made " + ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in counts.items()))
    return counts
