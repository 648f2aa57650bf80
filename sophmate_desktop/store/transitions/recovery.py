"""After a crash or a shutdown: runs cut short while planning go back to the queue;
writes cut short while applying are finished when their kind can be checked
(idempotent) and otherwise wait, interrupted, for a person to decide; the temporary
files their copies left beside the target are removed. Who is dead is judged by
engine instance (store/instances.py: the pid's start time, not a bare pid)."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Collection, Mapping
from pathlib import Path

from peewee import Database

from sophmate_desktop.domain.enums import IDEMPOTENT_WRITE_KINDS, RunStatus, WriteStatus
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.store import instances, sql
from sophmate_desktop.store.models import EngineInstance, Run, Workflow, Write
from sophmate_desktop.store.notifications import record_notification
from sophmate_desktop.store.transitions import gate
from sophmate_desktop.store.transitions.events import run_event, write_event


def recover(
    db: Database,
    host: str,
    notes: Mapping[int, str] | None = None,
    skip: Collection[int] = (),
) -> dict[str, int]:
    """After a crash: requeue runs cut short while planning; finish idempotent writes,
    mark the others interrupted; remove their temporary files. Only records claimed by
    an engine instance that is dead (`host` is this engine's claim token). `notes`:
    by write id, what was done to its command (named in the reason). `skip`: the
    workflows another engine or pool serves (left to them)."""
    counts = {"runs_requeued": 0, "writes_resumed": 0, "writes_interrupted": 0}
    me = host.partition("#")[2] or None
    dead = instances.judge(db, me)
    temp_targets: list[str] = []
    with sql.queued_transaction(db):
        running = Run.select().where(
            Run.status == RunStatus.RUNNING.value, sql.workflow_not_in(Run.workflow, skip)
        )
        for run in running:
            if dead(run.claimed_by) and _requeue(db, run):
                counts["runs_requeued"] += 1
        applying = list(
            Write.select().where(
                Write.status == WriteStatus.APPLYING.value,
                sql.workflow_not_in(Write.workflow, skip),
            )
        )
        here = _claimed_on_this_host(applying)
        for w in applying:
            if dead(w.claimed_by):
                counts[resume_or_interrupt(db, w, (notes or {}).get(w.id))] += 1
                if w.id in here:  # another desktop's path is not this disk's to clean
                    temp_targets.append(_target_path(w))
        live = {_target_path(w) for w in applying if not dead(w.claimed_by)}
    counts["temp_files_removed"] = remove_temp_files(
        [t for t in temp_targets if t and t not in live]
    )
    return counts


def _claimed_on_this_host(writes: list[Write]) -> set[int]:
    """The writes whose claiming engine instance ran on this host."""
    ids = {(w.claimed_by or "").partition("#")[2] for w in writes} - {""}
    hosts = dict(
        EngineInstance.select(EngineInstance.id, EngineInstance.host)
        .where(EngineInstance.id.in_(sorted(ids) or [""]))
        .tuples()
    )
    here = instances.this_host()
    return {
        w.id
        for w in writes
        if hosts.get((w.claimed_by or "").partition("#")[2], _token_host(w.claimed_by)) == here
    }


def _token_host(token: str | None) -> str:
    # A token from before instance ids: "host:pid".
    return (token or "").partition("#")[0].rpartition(":")[0]


# atomic_write/atomic_copy (engine/actions/paths.py) write `.NAME.<12 hex>.sophmate-tmp`
_TEMP = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{12}\.sophmate-tmp")


def _target_path(w: Write) -> str:
    payload = w.payload if isinstance(w.payload, dict) else {}
    path = payload.get("path")
    return path if isinstance(path, str) else ""


def remove_temp_files(targets: list[str]) -> int:
    """Remove the temporary files interrupted writes left beside these targets."""
    removed = 0
    for target in dict.fromkeys(targets):
        path = Path(target)
        with contextlib.suppress(OSError):
            for entry in path.parent.iterdir():
                m = _TEMP.fullmatch(entry.name)
                if m and m.group("name") == path.name and entry.is_file():
                    entry.unlink()
                    removed += 1
    return removed


def requeue_stopped_run(db: Database, run_id: int) -> bool:
    """The engine is shutting down while planning this run: back to the queue, for the
    next engine to plan (never failed, never left running)."""
    with sql.queued_transaction(db):
        run = Run.get_by_id(run_id)
        return run.status == RunStatus.RUNNING and _requeue(db, run)


def _requeue(db: Database, run: Run) -> bool:
    wf = Workflow.get_by_id(run.workflow_id)
    event = run_event(
        AuditAction.RUN_REQUEUED,
        run.id,
        workflow=wf.name,
        category=wf.category.name,
        reason=f"the engine {run.claimed_by} stopped while planning",
    )
    return gate.move_run(
        db, run.id, RunStatus.RUNNING, RunStatus.QUEUED, events=event, claimed_by=None
    )


def resume_or_interrupt(db: Database, w: Write, note: str | None = None) -> str:
    """An applying write of a dead engine: idempotent ones go back to approved, others
    wait as interrupted for a person. Returns the count it adds to."""
    wf = Workflow.get_by_id(w.workflow_id)
    if w.kind in IDEMPOTENT_WRITE_KINDS:
        new, action, counted = WriteStatus.APPROVED, AuditAction.WRITE_RESUMED, "writes_resumed"
    else:
        new, action = WriteStatus.INTERRUPTED, AuditAction.WRITE_INTERRUPTED
        counted = "writes_interrupted"
    event = write_event(
        action,
        w.id,
        w.run_id,
        workflow=wf.name,
        category=w.category,
        reason=f"the engine {w.claimed_by} stopped while applying" + (f"; {note}" if note else ""),
        details={"kind": w.kind, "target": w.target},
    )
    moved = gate.move_write(db, w.id, WriteStatus.APPLYING, new, events=event, claimed_by=None)
    if moved and new is WriteStatus.INTERRUPTED:
        _notify_interrupted(w, wf.name, " may or may not have taken effect: check")
    return counted


def host_id() -> str:
    return f"{instances.this_host()}:{os.getpid()}"


def _notify_interrupted(w: Write, workflow: str, check: str) -> None:
    record_notification(
        "warning",
        "write_interrupted",
        f"write {w.id} was interrupted",
        f"{w.kind} to {w.target}{check}, then mark it applied or retry it in the inbox.",
        workflow=workflow,
        run=w.run_id,
    )
