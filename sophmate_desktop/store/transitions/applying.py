"""Approved writes applied in batches: a batch is claimed approved -> applying in ONE
transaction (every switch and pause re-checked in it, as `outcomes.begin_apply` does
for one write), and the outcomes of a batch are recorded in ONE transaction, the runs
settled once per batch (`outcomes.settle_runs`, one aggregate query). The same rules
as one write at a time: retries (write_retry.py), costs and budgets, the pause rule,
a kill switch's writes cancelling their run. The recording journal's replay lives
here too (store/outcome_journal.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from peewee import Database

from sophmate_desktop.domain import policy
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import RunStatus, WriteStatus
from sophmate_desktop.domain.names import ENGINE_ACTOR, AuditAction
from sophmate_desktop.store import outcome_journal, sql
from sophmate_desktop.store.audit import NewEvent
from sophmate_desktop.store.models import AuditHead, Run, Workflow, Write
from sophmate_desktop.store.outcome_journal import Outcome
from sophmate_desktop.store.sql import queued_transaction
from sophmate_desktop.store.transitions import gate
from sophmate_desktop.store.transitions.budget import check_budget
from sophmate_desktop.store.transitions.events import write_event
from sophmate_desktop.store.transitions.outcomes import (
    _add_run_costs,
    record_final_failure,
    settle_runs,
)
from sophmate_desktop.store.transitions.recovery import resume_or_interrupt
from sophmate_desktop.store.transitions.write_retry import schedule_write_retry
from sophmate_desktop.store.workflows import effects_of, load_workflow, switch_states

__all__ = ["Outcome", "begin_applies", "finish_applies", "probe_commit", "replay_journal"]


def _by_id(model, ids) -> dict:
    rows: dict = {}
    ids = list(dict.fromkeys(ids))
    for start in range(0, len(ids), 500):
        rows.update({r.id: r for r in model.select().where(model.id.in_(ids[start : start + 500]))})
    return rows


def _refusal(w: Write | None, wf: Workflow | None, switches, now) -> str | None:
    if w is None or wf is None or w.status != WriteStatus.APPROVED:
        return "not approved"
    if w.next_attempt_at is not None and w.next_attempt_at > now:
        return f"its next attempt is due at {w.next_attempt_at:%H:%M:%S} UTC"
    sw = policy.blocking_switch(switches, category=w.category, effects=effects_of(w))
    if sw is not None:
        return policy.switch_refusal_text(sw)
    if wf.paused:
        return f"workflow {wf.name} is paused"
    return None


def begin_applies(
    db: Database, write_ids: Sequence[int], claimer: str
) -> tuple[list[Write], dict[int, str]]:
    """approved -> applying for every write of `write_ids` that may be applied now, in
    one transaction that re-checks every switch. Returns (the writes claimed, in the
    order given; {write id: why not} for the others)."""
    refused: dict[int, str] = {}
    with queued_transaction(db):
        writes = _by_id(Write, write_ids)
        wfs = _by_id(Workflow, {w.workflow_id for w in writes.values()})
        switches = switch_states(db)
        now = utcnow()
        ok: list[Write] = []
        for write_id in dict.fromkeys(write_ids):
            w = writes.get(write_id)
            why = _refusal(w, wfs.get(w.workflow_id) if w else None, switches, now)
            if why is None:
                ok.append(w)
            else:
                refused[write_id] = why
        if not ok:
            return [], refused
        events = {
            w.id: write_event(
                AuditAction.WRITE_APPLYING,
                w.id,
                w.run_id,
                workflow=wfs[w.workflow_id].name,
                category=w.category,
                details={"kind": w.kind, "target": w.target, "host": claimer},
            )
            for w in ok
        }
        moved = set(
            gate.move_writes(
                db,
                [w.id for w in ok],
                WriteStatus.APPROVED,
                WriteStatus.APPLYING,
                events=lambda ids: [events[i] for i in ids],
                claimed_by=claimer,
            )
        )
        claimed = [w for w in ok if w.id in moved]
        refused.update({w.id: "taken by another engine" for w in ok if w.id not in moved})
        # No event of its own: the writes' events say it (as they always have).
        gate.move_runs(
            db,
            sorted({w.run_id for w in claimed}),
            RunStatus.AWAITING_APPROVAL,
            RunStatus.APPLYING,
        )
    return claimed, refused  # as read before the move: approved in memory


class _Batch:
    """The outcomes of one batch sorted by how they end, inside its transaction."""

    def __init__(self, db: Database, writes: dict, wfs: dict) -> None:
        self.db = db
        self.writes = writes
        self.wfs = wfs
        self.applied: list[tuple[Write, Outcome]] = []
        self.failed: list[tuple[Write, Outcome]] = []
        self.killed: dict[int, str] = {}  # run id -> the kill switch's reason
        self.costs: dict[int, list] = defaultdict(lambda: [0, 0.0])
        self.spent: dict[str, int] = {}  # category -> a run that spent in it

    def sort(self, w: Write, o: Outcome) -> None:
        wf = self.wfs[w.workflow_id]
        if o.released is not None:
            _release(self.db, w, wf.name, o.released)
        elif o.interrupted:
            resume_or_interrupt(self.db, w)
            self.costs[w.run_id][0] += o.bytes_written
        elif o.error and o.retry and schedule_write_retry(self.db, w, load_workflow(wf), o.error):
            self.costs[w.run_id][0] += o.bytes_written
        elif o.error:
            self.failed.append((w, o))
            if not o.retry:
                self.killed[w.run_id] = o.error
        else:
            self.applied.append((w, o))

    def event(self, w: Write, o: Outcome, new: WriteStatus) -> NewEvent:
        return write_event(
            AuditAction.for_write(new),
            w.id,
            w.run_id,
            workflow=self.wfs[w.workflow_id].name,
            category=w.category,
            reason=o.error,
            details={
                "kind": w.kind,
                "target": w.target,
                "bytes_written": o.bytes_written,
                "attempt": w.attempt,
            },
        )

    def move(self) -> None:
        now = utcnow()
        if self.applied:
            events = {w.id: self.event(w, o, WriteStatus.APPLIED) for w, o in self.applied}
            gate.move_writes(
                self.db,
                list(events),
                WriteStatus.APPLYING,
                WriteStatus.APPLIED,
                events=lambda ids: [events[i] for i in ids],
                error=None,
                claimed_by=None,
                applied_at=now,
            )
        # Not a state change: what each apply left (its undo) and cost, one statement.
        sql.set_write_results(
            self.db, [(Write.undo.db_value(o.undo), o.cost, w.id) for w, o in self.applied]
        )
        for w, o in self.applied:
            self._count(w, o.bytes_written, o.cost)
        for w, o in self.failed:
            gate.move_write(
                self.db,
                w.id,
                WriteStatus.APPLYING,
                WriteStatus.FAILED,
                events=self.event(w, o, WriteStatus.FAILED),
                error=o.error,
                claimed_by=None,
            )
            self._count(w, o.bytes_written, 0.0)

    def _count(self, w: Write, bytes_written: int, spent: float) -> None:
        self.costs[w.run_id][0] += bytes_written
        self.costs[w.run_id][1] += spent
        if spent:
            self.spent[w.category] = w.run_id

    def settle(self) -> None:
        for run_id, (nbytes, spent) in self.costs.items():
            _add_run_costs(run_id, nbytes, spent)
        runs = {w.run_id for w in self.writes.values()}
        if self.killed:
            settled = settle_runs(
                self.db,
                list(self.killed),
                ENGINE_ACTOR,
                failed_as=RunStatus.CANCELLED,
                reasons=self.killed,
            )
            for ev in settled:
                if ev.action == AuditAction.RUN_CANCELLED and ev.run is not None:
                    Run.update(error=self.killed[ev.run]).where(Run.id == ev.run).execute()
        settled = settle_runs(self.db, list(runs - set(self.killed)), ENGINE_ACTOR)
        for category, run_id in self.spent.items():
            check_budget(self.db, category, run_id=run_id)
        failed_by_run = {w.run_id: w for w, _ in self.failed}
        for ev in settled:
            w = failed_by_run.get(ev.run or 0)
            if ev.action == AuditAction.RUN_FAILED and w is not None:
                error = next(o.error for fw, o in self.failed if fw is w)
                record_final_failure(
                    self.db, w.run_id, error or "a write failed", attempts=w.attempt, kind=w.kind
                )


def _release(db: Database, w: Write, workflow: str, reason: str) -> None:
    event = write_event(
        AuditAction.WRITE_RESUMED,
        w.id,
        w.run_id,
        workflow=workflow,
        category=w.category,
        reason=f"not started: {reason}",
        details={"kind": w.kind, "target": w.target},
    )
    gate.move_write(
        db, w.id, WriteStatus.APPLYING, WriteStatus.APPROVED, events=event, claimed_by=None
    )


def finish_applies(
    db: Database, outcomes: Sequence[Outcome], *, claimer: str | None = None
) -> dict[int, str]:
    """Record the outcomes of a batch in one transaction and settle its runs once.
    Returns {write id: its run's status} for every outcome. A write no longer applying
    (the monitor ended it, or it was recorded already) is left as it is; `claimer`:
    only writes claimed by it are recorded (the journal's replay)."""
    with queued_transaction(db):
        writes = _by_id(Write, [o.write_id for o in outcomes])
        wfs = _by_id(Workflow, {w.workflow_id for w in writes.values()})
        batch = _Batch(db, writes, wfs)
        for o in outcomes:
            w = writes.get(o.write_id)
            if w is None or w.status != WriteStatus.APPLYING:
                continue
            if claimer is not None and w.claimed_by != claimer:
                continue
            batch.sort(w, o)
        batch.move()
        batch.settle()
        runs = {w.run_id for w in writes.values()}
        status = dict(Run.select(Run.id, Run.status).where(Run.id.in_(list(runs))).tuples())
    return {w_id: status[w.run_id] for w_id, w in writes.items()}


def probe_commit(db: Database) -> None:
    """A real write that changes nothing (the chain head set to itself): whether this
    engine can commit again. Raises what the database raises."""
    with queued_transaction(db):
        AuditHead.update(last_id=AuditHead.last_id).where(AuditHead.id == 1).execute()


def replay_journal(db: Database, dead: Callable[[str | None], bool]) -> int:
    """At start, before recovery interrupts anything: record the outcomes a dead engine
    (`dead(claimer)`) kept in the journal and could not record. Returns how many writes
    it recorded; the entries are removed once recorded."""
    done = 0
    for entry in outcome_journal.read_entries(outcome_journal.journal_dir_of(db)):
        if not dead(entry.claimer):
            continue
        applying = {
            w_id
            for (w_id,) in Write.select(Write.id)
            .where(
                Write.id.in_([o.write_id for o in entry.outcomes]),
                Write.status == WriteStatus.APPLYING.value,
                Write.claimed_by == entry.claimer,
            )
            .tuples()
        }
        finish_applies(db, entry.outcomes, claimer=entry.claimer)
        done += len(applying)
        outcome_journal.remove_entry(entry.path)
    return done
