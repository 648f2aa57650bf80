"""A database with something in every table the pages show: workflows in two
categories (one due for review), runs that succeeded, failed and wait, pending and
interrupted writes (more than one page of them), notices, a pause and a resume."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sophmate_desktop.console import Console
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import Workflow
from sophmate_desktop.store.transitions.outcomes import record_final_failure
from tests.support.factories import make_run, make_write, many_writes, workflow_yaml


@dataclass(frozen=True)
class SeededDb:
    waiting_run: int  # a run whose writes await approval
    failed_run: int
    pending_writes: int  # how many writes the inbox shows


def seed_every_page(db, bulk: int = 250) -> SeededDb:
    lead = Console(db, actor="lead")
    lead.import_workflow(workflow_yaml("invoices", "finance"))
    lead.import_workflow(workflow_yaml("hooks", "ops"))
    wf = Workflow.get(Workflow.name == "hooks")
    with write_transaction(db):  # old enough to be due for its review
        Workflow.update(created_at=wf.created_at - dt.timedelta(days=400)).where(
            Workflow.id == wf.id
        ).execute()
    make_run(db, "invoices", status="succeeded")
    failed = make_run(db, "hooks", status="failed")
    with write_transaction(db):
        record_final_failure(db, failed.id, "endpoint answered 500")
    waiting = make_run(db, "invoices")
    make_write(db, waiting, seq=1, target="/srv/acct/a.csv")
    make_write(db, waiting, seq=2, kind="send_email", effect="email", customer_facing=True,
               target="billing@acme.example.test")  # fmt: skip
    make_write(db, waiting, seq=3, status="interrupted", target="/srv/acct/b.csv")
    wrong = make_write(db, waiting, seq=4, target="/srv/acct/c.csv")
    lead.reject([wrong.id], comment="wrong supplier")  # the run's timeline has an event
    many_writes(db, "hooks", bulk)
    with lead.transaction():
        lead.notify("warning", "watch_problem", "invoices is not watching", workflow="invoices")
    lead.pause_category("ops", "hooks endpoint down")
    lead.resume_category("ops", "endpoint is back")
    return SeededDb(waiting.id, failed.id, 3 + bulk)
