"""Running the command line in-process (`Cli`), the example workflow files the CLI tests
import, and the records the engine would create for a run (`add_run`)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from sophmate_desktop import app
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import Run, Workflow, Write
from tests.support.factories import created_as
from tests.support.paths import EXAMPLES

INVOICE = EXAMPLES / "invoice-intake.yaml"  # lacks notify and rollback
REPORTS = EXAMPLES / "report-archive.yaml"  # complete checklist, category reporting
WEBHOOK = EXAMPLES / "status-webhook.yaml"  # complete checklist, category integrations


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@contextlib.contextmanager
def os_user(name: str) -> Iterator[None]:
    """The OS user the program sees (getpass reads LOGNAME first): another person at
    the same desktop, without --actor (which would be audited "as NAME by USER")."""
    saved = {k: os.environ.get(k) for k in ("LOGNAME", "USER")}
    os.environ.update(LOGNAME=name, USER=name)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Cli:
    """`cli("inbox", "list", actor="bob")` runs app.main on one database: on SQLite as
    the OS user `actor`; on PostgreSQL as the URL's login (who acts there; --actor is
    refused), so `actor` is not used."""

    def __init__(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.url = url
        self.capsys = capsys

    def who(self, actor: str) -> str:
        """The name the program records for `actor`."""
        return actor

    def url_of(self, actor: str) -> str:
        return self.url

    def __call__(self, *args: object, actor: str = "ana") -> Result:
        self.capsys.readouterr()
        argv = ["--db", self.url_of(actor), *map(str, args)]
        sqlite = not self.url.startswith("postgresql")
        with os_user(actor) if sqlite else contextlib.nullcontext():
            code = app.main(argv)
        captured = self.capsys.readouterr()
        assert "Traceback" not in captured.err
        return Result(code, captured.out, captured.err)


def add_run(
    url: str,
    workflow: str,
    *,
    status: str = "awaiting_approval",
    mode: str = "staging",
    reviewed: bool = False,
    writes: int = 0,
    write_status: str = "pending",
    kind: str = "send_email",
    effect: str = "email",
    customer_facing: bool = False,
    preview: str | None = None,
    write_error: str | None = None,
) -> tuple[int, list[int]]:
    """A run of `workflow` and its writes, as the engine would record them."""
    db = open_database(url)
    try:
        now = utcnow()
        finished = status in ("succeeded", "failed", "rejected", "cancelled")
        with db.atomic():
            wf = Workflow.get(Workflow.name == workflow)
            run = Run.create(
                workflow=wf,
                revision=wf.revision,
                trigger_kind="file",
                trigger_path=f"/data/in/{workflow}.csv",
                mode=mode,
                status=status,
                queued_at=now,
                started_at=None if status in ("queued", "held") else now,
                finished_at=now if finished else None,
                duration_ms=1200 if finished else None,
                reviewed_at=now if reviewed else None,
            )
            created = created_as(write_status)
            ids = [
                Write.create(
                    run=run,
                    workflow=wf,
                    category=wf.category.name,
                    seq=seq,
                    kind=kind,
                    effect=effect,
                    target=f"supplier{seq}@example.test",
                    summary=f"{kind} number {seq}",
                    preview=preview or f"To: supplier{seq}@example.test\n\nInvoice {seq} received.",
                    error=write_error,
                    customer_facing=customer_facing,
                    status=created,
                    idempotency_key=f"run{run.id}-{seq}",
                ).id
                for seq in range(1, writes + 1)
            ]
            if created != write_status:  # as the engine moved it
                Write.update(status=write_status).where(Write.id.in_(ids)).execute()
        return run.id, ids
    finally:
        db.close()
