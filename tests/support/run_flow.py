"""A run made one engine step at a time (record, claim, plan, apply) on the real
database, with the engine's own transaction functions and no threads: the example
workflow `WORKFLOW` (invoice-intake, staging), planned e-mails and commands, `Flow`."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from sophmate_desktop.domain.enums import EffectKind
from sophmate_desktop.engine.actions import affected_records
from sophmate_desktop.engine.actions.base import PlannedWrite
from sophmate_desktop.store import workflows as store_workflows
from sophmate_desktop.store.models import Workflow
from sophmate_desktop.store.transitions import intake as records
from sophmate_desktop.store.transitions import outcomes

WORKFLOW = """\
name: invoice-intake
category: finance
owner: ops-lead
description: File invoices.
trigger: {folder: /srv/in, patterns: ["*.csv"]}
input: {read: text, max_bytes: 100000}
output: {paths: [/tmp/out], staging_paths: [/tmp/staging]}
steps:
  - action: write_file
    to: "{{ output.path }}/{{ file.name }}"
    content: "hello"
approval: {mode: always}
retry: {limit: 2, backoff_s: 0}
notify: {on_failure: [tray]}
pause: {consecutive_failures: 1}
rollback: Delete the written file.
"""
HOST = f"{socket.gethostname()}:{os.getpid()}"


def email(n: int) -> PlannedWrite:
    return PlannedWrite(
        "send_email", EffectKind.EMAIL, f"c{n}@example.test", f"mail {n}", "To: x", {}
    )


def file_write(n: int) -> PlannedWrite:
    path = f"/tmp/out/f{n}.txt"
    return PlannedWrite(
        "write_file", EffectKind.FILE, path, f"write {path}", "hello", {"path": path}
    )


def http_call(n: int) -> PlannedWrite:
    url = f"https://erp.example.test/orders/{n}"
    return PlannedWrite("http_request", EffectKind.HTTP, url, f"POST {url}", "POST", {"url": url})


def command(argv: str = "backup.sh") -> PlannedWrite:
    return PlannedWrite(
        "run_command", EffectKind.COMMAND, argv, f"run {argv}", argv, {"argv": [argv]}
    )


class Flow:
    """One step of the engine at a time, on the real database."""

    def __init__(self, db, console) -> None:
        self.db = db
        self.console = console

    def offer(self, path: str = "/srv/in/invoices/acme-17.csv", size: int = 3200) -> int:
        offer = records.Offer("invoice-intake", "file", Path(path), size, 1, "ab" * 32)
        [(run_id, _status)] = records.record_offers(self.db, [offer], HOST)
        return run_id

    def claim(self, run_id: int, claimer: str = HOST) -> None:
        assert records.claim_run(self.db, run_id, claimer)

    def plan(self, run_id: int, planned: list[PlannedWrite]) -> str:
        wf = store_workflows.load_workflow(Workflow.get(Workflow.name == "invoice-intake"))
        status, _auto = records.store_plan(
            self.db, run_id, wf, planned, 3200, 0, affected_records(planned)
        )
        return status

    def writes(self, run_id: int) -> list[int]:
        return [w.id for w in self.console.run_writes(run_id)]

    def apply(self, write_id: int, error: str | None = None, claimer: str = HOST) -> str:
        write, why = outcomes.begin_apply(self.db, write_id, claimer)
        assert write is not None, why
        return outcomes.finish_apply(self.db, write_id, error=error)
