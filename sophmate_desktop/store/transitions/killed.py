"""Ending the writes a kill switch killed: all of them in one transaction.

A pause that kills a hundred running commands used to end each write in its applier
thread, one transaction after another (seconds). The monitor that killed them ends
them together instead, while the killed processes are still exiting.
"""

from __future__ import annotations

from collections.abc import Callable

from peewee import Database

from sophmate_desktop.domain.enums import RunStatus, WriteStatus
from sophmate_desktop.domain.names import ENGINE_ACTOR, AuditAction
from sophmate_desktop.store.audit import NewEvent
from sophmate_desktop.store.models import Run, Workflow, Write
from sophmate_desktop.store.sql import queued_transaction
from sophmate_desktop.store.transitions import gate
from sophmate_desktop.store.transitions.events import write_event
from sophmate_desktop.store.transitions.outcomes import settle_runs


class _Unconfirmed(Exception):
    def __init__(self, confirmed: set[int]) -> None:
        self.confirmed = confirmed


def finish_killed(
    db: Database,
    killed: dict[int, str],
    confirm: Callable[[], set[int]] | None = None,
) -> list[tuple[int, int, str]]:
    """Writes whose commands a kill switch killed (write id -> error): applying ->
    failed in ONE transaction, their runs settled, all audited with one append.

    `confirm`, called just before the commit, returns the ids whose commands are known
    dead by the kill (so the database work overlaps the processes' exit); the others
    are left out, and left to their threads. Writes no longer applying (finished by
    their own thread meanwhile) are left alone. Returns (write id, run id, run status)
    for each write finished here.
    """
    try:
        return _finish_killed(db, killed, confirm)
    except _Unconfirmed as exc:
        rest = {k: v for k, v in killed.items() if k in exc.confirmed}
        return _finish_killed(db, rest, None) if rest else []


def _finish_killed(
    db: Database, killed: dict[int, str], confirm: Callable[[], set[int]] | None
) -> list[tuple[int, int, str]]:
    if not killed:
        return []
    with queued_transaction(db):
        writes = list(
            Write.select(
                Write.id, Write.run, Write.workflow, Write.category, Write.kind, Write.target
            )
            .where(Write.id.in_(list(killed)), Write.status == WriteStatus.APPLYING.value)
            .order_by(Write.id)
        )
        if not writes:
            return []
        names = dict(
            Workflow.select(Workflow.id, Workflow.name)
            .where(Workflow.id.in_({w.workflow_id for w in writes}))
            .tuples()
        )
        by_id = {w.id: w for w in writes}

        def failed_events(moved: list[int]) -> list[NewEvent]:
            return [
                write_event(
                    AuditAction.WRITE_FAILED,
                    w.id,
                    w.run_id,
                    workflow=names.get(w.workflow_id),
                    category=w.category,
                    reason=killed[w.id],
                    details={"kind": w.kind, "target": w.target, "bytes_written": 0},
                )
                for w in (by_id[i] for i in sorted(moved))
            ]

        by_error: dict[str, list[int]] = {}
        for w in writes:
            by_error.setdefault(killed[w.id], []).append(w.id)
        for error, ids in by_error.items():
            gate.move_writes(
                db,
                ids,
                WriteStatus.APPLYING,
                WriteStatus.FAILED,
                events=failed_events,
                error=error,
                claimed_by=None,
            )
        errors = {w.run_id: killed[w.id] for w in writes}
        # A run stopped by a kill switch is cancelled, not failed: no failure notice,
        # no step towards the consecutive-failures pause (DESIGN 3).
        settled = settle_runs(
            db, list(errors), ENGINE_ACTOR, failed_as=RunStatus.CANCELLED, reasons=errors
        )
        cancelled = [ev.run for ev in settled if ev.action == AuditAction.RUN_CANCELLED]
        for run_id in cancelled:
            Run.update(error=errors[run_id]).where(Run.id == run_id).execute()
        status = dict(Run.select(Run.id, Run.status).where(Run.id.in_(list(errors))).tuples())
        if confirm is not None:
            confirmed = confirm()
            if not {w.id for w in writes} <= confirmed:
                raise _Unconfirmed(confirmed)  # rolls this transaction back
    return [(w.id, w.run_id, status[w.run_id]) for w in writes]
