"""A big run's plan recorded from a spool (issue 14, item 10).

A run over a big input is planned a batch of records at a time (engine/plan_stream.py);
each batch's writes become the rows the database will hold (`WriteRows`, with the
approval gate's decision) and go to a `PlanSpool`: an unlinked temporary file, so the
plan is held on disk, not in memory, and vanishes with the process however it ends
(a crash leaves no half plan anywhere). Only when the whole plan is made does
`store_spooled_plan` insert the rows, in chunks, and move the run through the gate
with its audit events, in ONE transaction: a reader sees all of the plan or none of
it, and a kill switch or a database never sees a half plan. The write lock is held
for the inserts only, never while templates render.
"""

from __future__ import annotations

import os
import pickle
import struct
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from peewee import Database

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import RunStatus, WriteStatus
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.store import sql
from sophmate_desktop.store.models import Run, Workflow
from sophmate_desktop.store.sql import queued_transaction
from sophmate_desktop.store.transitions import gate
from sophmate_desktop.store.transitions.budget import check_budget
from sophmate_desktop.store.transitions.events import run_event
from sophmate_desktop.store.transitions.plans import (
    _WRITE_INSERT,
    PlannedWrite,
    _duration,
    _gate,
    _notify_pending,
    _planned_status,
    _write_row,
)
from sophmate_desktop.store.workflows import LoadedWorkflow

_LENGTH = struct.Struct("<Q")
INSERT_CHUNK = 2_000  # rows per executemany: a pause between chunks ends the insert


class PlanSpool:
    """Batches of write rows in an unlinked temporary file, read back in order."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="sophmate-plan-")  # noqa: SIM115 - closed by close()
        self.rows = 0

    def add(self, rows: list[tuple]) -> None:
        if not rows:
            return
        data = pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
        self._file.write(_LENGTH.pack(len(data)))
        self._file.write(data)
        self.rows += len(rows)

    def batches(self) -> Iterator[list[tuple]]:
        self._file.flush()
        self._file.seek(0)
        while True:
            head = self._file.read(_LENGTH.size)
            if not head:
                return
            (size,) = _LENGTH.unpack(head)
            yield pickle.loads(self._file.read(size))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> PlanSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class WriteRows:
    """The rows of one run's writes as `store_plans` would insert them (seq from 1,
    the approval gate's status), and the run's figures, built write by write."""

    run_id: int
    wf: LoadedWorkflow
    mode: str
    clean_runs: int
    now: object = field(default_factory=utcnow)  # the writes' created_at: when planning began
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("writes", "pending", "auto_approved", "planned_only", "affected_records"), 0
        )
    )
    cost: float = 0.0

    def __post_init__(self) -> None:
        # By what the gate reads of a write: its decision and the layout of its rows.
        self._layouts: dict[tuple[bool, bool, bool], _RowLayout] = {}

    def rows(self, planned: list[PlannedWrite]) -> list[tuple]:
        out = []
        counts = self.counts
        keys = os.urandom(8 * len(planned)).hex()  # the random part of each write's key
        for n, pw in enumerate(planned):
            counts["writes"] += 1
            seq = counts["writes"]
            # all the gate reads of a write (ai_drafted is a shared column of its layout)
            gate_key = (pw.sendable, pw.customer_facing, pw.ai_drafted)
            layout = self._layouts.get(gate_key)
            if layout is None:
                decision = _gate(self.mode, self.wf, pw, self.clean_runs)
                first = _write_row(self.run_id, self.wf, seq, pw, self.now, decision)
                layout = self._layouts[gate_key] = _RowLayout(first, decision[0])
            status = layout.status
            if status is WriteStatus.PENDING:
                counts["pending"] += 1
            elif status is WriteStatus.APPROVED:
                counts["auto_approved"] += 1
            else:
                counts["planned_only"] += 1
            self.cost += pw.cost
            key = f"{self.run_id}-{seq}-{keys[16 * n : 16 * n + 16]}"
            out.append(layout.values(seq, pw, key))
        return out


class _RowLayout:
    """`RawInsert(Write).values(_write_row(...))` for the writes of one plan that share
    a gate decision: the columns they share (the run, the decision, the time) converted
    once, from the first such row; only the columns a write sets itself per write."""

    OWN = (
        "seq",
        "kind",
        "effect",
        "target",
        "summary",
        "preview",
        "payload",
        "customer_facing",
        "idempotency_key",
        "cost",
    )
    TEXT = ("kind", "target", "summary", "preview")

    def __init__(self, first: dict, status: WriteStatus) -> None:
        fields = _WRITE_INSERT._fields
        self.status = status
        self._shared = list(_WRITE_INSERT.values(first))
        at = {f.name: i for i, f in enumerate(fields)}
        self._at = tuple(at[name] for name in self.OWN)
        self._text = [(at[name], name, fields[at[name]].db_value) for name in self.TEXT]
        self._payload = fields[at["payload"]].db_value

    def values(self, seq: int, pw: PlannedWrite, key: str) -> tuple:
        out = self._shared[:]
        i_seq, i_kind, i_effect, i_target, i_summary, i_preview, i_payload, i_cf, i_key, i_cost = (
            self._at
        )
        out[i_seq] = seq
        out[i_kind] = pw.kind
        out[i_effect] = pw.effect.value
        out[i_target] = pw.target
        out[i_summary] = pw.summary
        out[i_preview] = pw.preview
        out[i_payload] = self._payload(pw.payload)
        out[i_cf] = bool(pw.customer_facing)
        out[i_key] = key
        out[i_cost] = float(pw.cost)
        for i, name, db_value in self._text:
            if type(out[i]) is not str:  # a plug-in's odd value: as peewee converts it
                out[i] = db_value(getattr(pw, name))
        return tuple(out)


@dataclass
class SpooledPlan:
    """One run's plan, made: its rows in `spool`, its figures in `rows`."""

    run_id: int
    wf: LoadedWorkflow
    bytes_read: int
    rows: WriteRows
    spool: PlanSpool
    costs: bool = False  # a write has a cost: the category's budget is checked


def store_spooled_plan(
    db: Database, plan: SpooledPlan, check: Callable[[], None] = lambda: None
) -> tuple[str, list[int]]:
    """Insert the plan's rows and decide the run per the approval gate, in one
    transaction; (new status, ids of writes the gate approved). A run no longer
    running keeps its status and gets no writes. `check` runs between chunks: what
    it raises (a kill switch) rolls the whole plan back."""
    now = utcnow()
    counts = plan.rows.counts
    with queued_transaction(db):
        ((_, status, _mode, started),) = sql.run_states(db, [plan.run_id])
        if status != RunStatus.RUNNING.value:
            return status, []
        cursor = db.cursor()
        try:
            statement = _WRITE_INSERT._statement(db, False)
            for batch in plan.spool.batches():
                for start in range(0, len(batch), INSERT_CHUNK):
                    check()
                    cursor.executemany(statement, batch[start : start + INSERT_CHUNK])
        finally:
            cursor.close()
        new = _planned_status(counts["pending"], counts["auto_approved"])
        duration = None
        if new is RunStatus.SUCCEEDED:
            duration = _duration(Run.started_at.python_value(started), now)
        figures = (plan.bytes_read, counts["writes"], counts["affected_records"])
        sql.set_run_figures(db, [(*figures, plan.rows.cost, duration, plan.run_id)])
        _move_planned(db, plan, new, now)
        if counts["pending"]:
            _notify_pending(plan.wf, plan.run_id, counts["pending"])
        if plan.costs:
            check_budget(db, plan.wf.category, run_id=plan.run_id)
        approved = []
        if counts["auto_approved"]:
            approved = [write_id for write_id, _ in sql.approved_writes_of(db, [plan.run_id])]
    return new.value, approved


def _move_planned(db: Database, plan: SpooledPlan, new: RunStatus, now: object) -> None:
    wf, run_id = plan.wf, plan.run_id
    events = [
        run_event(
            AuditAction.RUN_PLANNED,
            run_id,
            workflow=wf.name,
            category=wf.category,
            details=dict(plan.rows.counts),
        )
    ]
    if new is RunStatus.SUCCEEDED:
        events.append(
            run_event(AuditAction.RUN_SUCCEEDED, run_id, workflow=wf.name, category=wf.category)
        )
    fields = {"finished_at": now} if new is RunStatus.SUCCEEDED else {}
    gate.move_runs(db, [run_id], RunStatus.RUNNING, new, events=events, **fields)
    if new is RunStatus.SUCCEEDED:
        Workflow.update(consecutive_failures=0).where(
            Workflow.id == wf.id, Workflow.consecutive_failures != 0
        ).execute()
