"""Builders for records the engine would create: runs and their writes.

Tests of the console and the CLI use them before (and independently of) the engine.
"""

from __future__ import annotations

import uuid

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import Run, Workflow, Write

MINIMAL_WORKFLOW = """\
name: {name}
category: {category}
owner: {owner}
description: A test workflow.
trigger: {{folder: /tmp/in, patterns: ["*.txt"]}}
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
    return MINIMAL_WORKFLOW.format(name=name, category=category, owner=owner)


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
        return Write.create(
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
            status=status,
            idempotency_key=uuid.uuid4().hex,
        )
