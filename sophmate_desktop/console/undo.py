"""Undo of applied file writes: a new run of the same workflow (trigger "undo") whose
undo_file writes wait in the inbox like any write, previewed as the reverse diff and
never approved by the gate. E-mail, HTTP and commands cannot be undone: the refusal
gives the workflow's rollback text instead."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sophmate_desktop.console.undo_plan import NotUndoable, TargetChanged, UndoStep, plan_step
from sophmate_desktop.console.workflows import definition_of
from sophmate_desktop.domain import states
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import EffectKind, RunStatus, WriteStatus
from sophmate_desktop.domain.errors import BadInput, NotFound, PolicyRefused
from sophmate_desktop.domain.events import Event
from sophmate_desktop.domain.names import AuditAction, EventKind
from sophmate_desktop.domain.roles import Role
from sophmate_desktop.store import audit, queries
from sophmate_desktop.store.models import Run, Setting, Workflow, Write
from sophmate_desktop.store.rows import RunRow
from sophmate_desktop.store.transitions import gate
from sophmate_desktop.store.transitions.events import run_event, write_event
from sophmate_desktop.store.undo_blobs import DEFAULT_RETENTION_DAYS, undo_dir_of

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

CHUNK = 500
ALWAYS_PENDING = "an undo is always approved by a person"


@dataclass(frozen=True)
class UndoResult:
    run: RunRow
    writes: int
    skipped: list[str] = field(default_factory=list)  # writes left as they are, and why
    rollback: str | None = None  # the workflow's rollback text, for what was skipped

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run.to_dict(),
            "writes": self.writes,
            "skipped": self.skipped,
            "rollback": self.rollback,
        }

    def describe(self) -> str:
        lines = [
            f"run {self.run.id} awaits approval: {self.writes} undo writes "
            f"of {self.run.workflow} in the inbox"
        ]
        lines.append(f"  review: inbox list --workflow {self.run.workflow}")
        lines += [f"  not undone: {why}" for why in self.skipped]
        if self.skipped and self.rollback:
            lines.append(f"  rollback ({self.run.workflow}): {self.rollback}")
        return "\n".join(lines)


def _rollback(wf: Workflow) -> str | None:
    return definition_of(wf).rollback


def _refusal(why: str, wf: Workflow) -> PolicyRefused:
    rollback = _rollback(wf)
    tail = f"; the workflow's rollback: {rollback}" if rollback else ""
    return PolicyRefused(why + tail)


class UndoOps:
    def undo_write(self: Console, write_id: int) -> UndoResult:
        """Plan the undo of one applied write (exit 3 when it cannot be undone)."""
        with self.transaction():
            w = Write.get_or_none(Write.id == write_id)
            if w is None:
                raise NotFound(f"no write with id {write_id}")
            wf = Workflow.get_by_id(w.workflow_id)
            if w.status != WriteStatus.APPLIED:
                raise PolicyRefused(f"write {write_id} is {w.status}; only applied writes undo")
            try:
                step = plan_step(w, undo_dir_of(self.db))
            except (NotUndoable, TargetChanged) as exc:
                raise _refusal(str(exc), wf)
            return self._record_undo(Run.get_by_id(w.run_id), wf, [step], [])

    def undo_run(self: Console, run_id: int) -> UndoResult:
        """Plan the undo of every undoable applied write of a run, newest first."""
        with self.transaction():
            run = Run.get_or_none(Run.id == run_id)
            if run is None:
                raise NotFound(f"no run with id {run_id}")
            wf = Workflow.get_by_id(run.workflow_id)
            applied = (
                Write.select()
                .where(Write.run == run_id, Write.status == WriteStatus.APPLIED.value)
                .order_by(Write.applied_at.desc(), Write.id.desc())
            )
            steps, skipped = self._plan_steps(applied)
            if not steps:
                why = "; ".join(skipped) or "it has no applied writes"
                raise _refusal(f"run {run_id} has nothing to undo: {why}", wf)
            return self._record_undo(run, wf, steps, skipped)

    def _plan_steps(self: Console, writes: Any) -> tuple[list[UndoStep], list[str]]:
        root = undo_dir_of(self.db)
        steps: list[UndoStep] = []
        skipped: list[str] = []
        changed: list[str] = []
        for w in writes:
            try:
                steps.append(plan_step(w, root))
            except NotUndoable as exc:
                skipped.append(str(exc))
            except TargetChanged as exc:
                changed.append(str(exc))
        if changed:  # a partial undo would leave the files half one way, half the other
            raise PolicyRefused("; ".join(changed))
        return steps, skipped

    def _record_undo(
        self: Console, source: Run, wf: Workflow, steps: list[UndoStep], skipped: list[str]
    ) -> UndoResult:
        now = utcnow()
        states.check_run(None, RunStatus.QUEUED)
        run = Run.create(
            workflow=wf.id,
            revision=wf.revision,
            trigger_kind="undo",
            mode=source.mode,
            status=RunStatus.QUEUED.value,
            queued_at=now,
            created_by=self.actor,
        )
        ids = [s.write_id for s in steps]
        queued = self._run_event(
            AuditAction.RUN_QUEUED, run.id, wf, trigger="undo", undo_of=source.id, writes=ids
        )
        audit.append(self.db, queued)
        started = self._run_event(AuditAction.RUN_STARTED, run.id, wf)
        gate.move_run(
            self.db, run.id, RunStatus.QUEUED, RunStatus.RUNNING, events=started, started_at=now
        )
        self._insert_undo_writes(run.id, wf, steps, now)
        planned = self._run_event(
            AuditAction.RUN_PLANNED, run.id, wf, writes=len(steps), pending=len(steps)
        )
        gate.move_run(
            self.db,
            run.id,
            RunStatus.RUNNING,
            RunStatus.AWAITING_APPROVAL,
            events=planned,
            actions=len(steps),
        )
        self._pending_events.append(Event(EventKind.RUNS_CREATED, {"runs": [run.id]}))
        row = queries.get_run_row(run.id)
        return UndoResult(row, len(steps), skipped, _rollback(wf) if skipped else None)

    def _run_event(
        self: Console, action: AuditAction, run_id: int, wf: Workflow, **details: Any
    ) -> Any:
        return run_event(
            action,
            run_id,
            workflow=wf.name,
            category=wf.category,
            actor=self.actor,
            details=details or None,
        )

    def _insert_undo_writes(
        self: Console, run_id: int, wf: Workflow, steps: list[UndoStep], now: Any
    ) -> None:
        states.check_write(None, WriteStatus.PENDING)
        rows = [_undo_row(run_id, wf, seq, step, now) for seq, step in enumerate(steps, 1)]
        for start in range(0, len(rows), CHUNK):
            Write.insert_many(rows[start : start + CHUNK]).execute()
        new_ids = [
            w.id for w in Write.select(Write.id).where(Write.run == run_id).order_by(Write.seq)
        ]
        audit.append_many(
            self.db,
            [
                write_event(
                    AuditAction.WRITE_UNDO_PLANNED,
                    wid,
                    run_id,
                    workflow=wf.name,
                    category=wf.category,
                    actor=self.actor,
                    details={"undoes": step.write_id, "target": step.target},
                )
                for wid, step in zip(new_ids, steps, strict=True)
            ],
        )

    def undo_retention_days(self: Console) -> int:
        """How many days previous file contents are kept for undo."""
        return int(self.setting("undo_retention_days", DEFAULT_RETENTION_DAYS))

    def set_undo_retention(self: Console, days: int) -> None:
        """How long previous file contents are kept for undo (cleaned at engine start)."""
        if not isinstance(days, int) or days < 1:
            raise BadInput("undo_retention_days: give a whole number of days, at least 1")
        self.require_role(Role.ADMINISTRATOR, "changing settings")
        with self.transaction():
            old = self.setting("undo_retention_days")
            Setting.insert(key="undo_retention_days", value=days).on_conflict(
                conflict_target=[Setting.key], update={Setting.value: days}
            ).execute()
            self.audit(
                AuditAction.SETTING_CHANGED,
                subject="undo_retention_days",
                details={"from": old, "to": days},
            )


def _undo_row(run_id: int, wf: Workflow, seq: int, step: UndoStep, now: Any) -> dict:
    return dict(
        run=run_id,
        workflow=wf.id,
        category=wf.category,
        seq=seq,
        kind="undo_file",
        effect=EffectKind.FILE.value,
        target=step.target,
        summary=step.summary,
        preview=step.preview,
        payload=step.payload,
        customer_facing=False,
        status=WriteStatus.PENDING.value,
        idempotency_key=f"{run_id}-{seq}-{uuid.uuid4().hex[:16]}",
        created_at=now,
        comment=ALWAYS_PENDING,
    )
