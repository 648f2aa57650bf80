"""Builders for records the engine would create: runs and their writes, final
failures, notices, and moving records back in time.

Tests of the console, the CLI and the pages use them before (and independently of)
the engine.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import Run, Workflow, Write
from sophmate_desktop.store.transitions.outcomes import record_final_failure

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

# An empty folder that exists (enable refuses a watched folder that does not); nothing
# is ever put there, so an engine watching it starts no run.
WATCHED = Path(__file__).resolve().parent / "watched"
MINIMAL_WORKFLOW = """\
name: {name}
category: {category}
owner: {owner}
description: A test workflow.
trigger: {{folder: "{folder}", patterns: ["*.txt"]}}
input: {{read: text, max_bytes: 100000}}
output: {{paths: [/tmp/out], staging_paths: [/tmp/staging]}}
steps:
  - action: write_file
    to: "{{{{ output.path }}}}/{{{{ file.name }}}}"
    content: "hello"
approval: {{mode: always}}
retry: {{limit: 1, backoff_s: 1}}
notify: {{on_failure: [tray]}}
pause: {{consecutive_failures: 3}}
rollback: Delete the written file.
"""


def workflow_yaml(name: str = "wf-one", category: str = "finance", owner: str = "ops-lead") -> str:
    return MINIMAL_WORKFLOW.format(name=name, category=category, owner=owner, folder=WATCHED)


def make_run(
    db,
    workflow: str,
    *,
    status: str = "awaiting_approval",
    mode: str = "staging",
    reviewed: bool = False,
) -> Run:
    wf = Workflow.get(Workflow.name == workflow)
    now = utcnow()
    with write_transaction(db):
        return Run.create(
            workflow=wf,
            revision=wf.revision,
            trigger_kind="manual",
            mode=mode,
            status=status,
            queued_at=now,
            started_at=now,
            finished_at=now if status in ("succeeded", "failed", "rejected") else None,
            reviewed_at=now if reviewed else None,
        )


# The engine's later states come after pending: a team's database refuses a new write in
# them (store/team_edit_sql.py), so a factory creates it pending and moves it on.
ENGINE_MOVES = ("applying", "applied", "failed", "interrupted", "cancelled", "expired", "stale")


def created_as(status: str) -> str:
    return "pending" if status in ENGINE_MOVES else status


def make_write(
    db,
    run: Run,
    *,
    seq: int = 1,
    kind: str = "write_file",
    effect: str = "file",
    status: str = "pending",
    customer_facing: bool = False,
    target: str = "/tmp/out/a.txt",
) -> Write:
    wf = Workflow.get_by_id(run.workflow_id)
    with write_transaction(db):
        write = Write.create(
            run=run,
            workflow=wf,
            category=wf.category.name,
            seq=seq,
            kind=kind,
            effect=effect,
            target=target,
            summary=f"{kind} {target}",
            preview="+hello",
            payload={},
            customer_facing=customer_facing,
            status=created_as(status),
            idempotency_key=uuid.uuid4().hex,
        )
        if write.status != status:
            Write.update(status=status).where(Write.id == write.id).execute()
            write.status = status
        return write


def many_writes(db, workflow: str, n: int) -> list[int]:
    run = make_run(db, workflow)
    wf = Workflow.get(Workflow.name == workflow)
    rows = [
        dict(
            run=run.id,
            workflow=wf.id,
            category=wf.category.name,
            seq=100 + i,
            kind="write_file",
            effect="file",
            target=f"/srv/bulk/{i:04}.txt",
            summary=f"bulk {i}",
            preview="+x",
            payload={},
            status="pending",
            idempotency_key=uuid.uuid4().hex,
        )
        for i in range(n)
    ]
    with write_transaction(db):
        for start in range(0, len(rows), 1000):  # PostgreSQL takes 65,535 parameters
            Write.insert_many(rows[start : start + 1000]).execute()
    return [w.id for w in Write.select(Write.id).where(Write.run == run.id).order_by(Write.id)]


def finish_at(db, run: Run, at: dt.datetime) -> Run:
    with write_transaction(db):
        Run.update(finished_at=at).where(Run.id == run.id).execute()
    return run


def fail(db, workflow: str, error: str = "boom") -> Run:
    """A run that failed after its last retry: counted, notified, maybe auto-paused."""
    run = make_run(db, workflow, status="failed")
    with write_transaction(db):
        record_final_failure(db, run.id, error)
    return run


def backdate_workflow(db, name: str, days: int) -> None:
    wf = Workflow.get(Workflow.name == name)
    with write_transaction(db):
        Workflow.update(created_at=wf.created_at - dt.timedelta(days=days)).where(
            Workflow.id == wf.id
        ).execute()


def note(
    console: Console,
    kind: str,
    title: str,
    body: str = "",
    *,
    level: str = "error",
    workflow: str | None = None,
    run: int | None = None,
    group_key: str | None = None,
) -> int:
    """A notice as the engine records it, in one transaction, published to the UI."""
    with console.transaction():
        return console.notify(
            level, kind, title, body, workflow=workflow, run=run, group_key=group_key
        )
