"""Planning a run over a big CSV input in batches (issue 14, item 10).

A run whose trigger file is a CSV of at least `STREAM_MIN_BYTES` with a `for_each:
rows` step is not read whole: its rows are read `BATCH_ROWS` at a time
(`inputs.CsvBatches`), each batch is planned inside the plan guard (a pause or the
plan time limit ends it mid-batch) and turned into the rows the database will hold,
which go to a spool on disk (store/transitions/spooled.py). Memory holds one batch,
whatever the number of rows. The writes come out as the whole-input plan makes them:
step by step (the file is read once per `for_each` step), record by record, numbered
the same way.

`max_writes` is checked before anything is planned by counting rows up to the limit
(no further), and again while planning; nothing is stored until the plan is whole,
so a refused or stopped plan leaves nothing behind.

Only runs whose templates never read the whole input (`input`) and whose steps are
built-in actions stream (a plug-in may read `ctx.input`); the others are planned
with the input in memory, as before.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sophmate_desktop.domain.enums import BUILTIN_ACTION_EFFECTS
from sophmate_desktop.domain.templates import TemplateError, referenced_names
from sophmate_desktop.domain.workflow import StepSpec, WorkflowDefinition
from sophmate_desktop.engine.actions import plan_records
from sophmate_desktop.engine.actions.base import Cancelled, PlanContext, PlannedWrite
from sophmate_desktop.engine.handles import InFlight
from sophmate_desktop.engine.inputs import CsvBatches, check_max_writes
from sophmate_desktop.engine.plan_guard import PlanGuard
from sophmate_desktop.engine.replan import record_connection_state
from sophmate_desktop.store.transitions.plans import ClaimedRun
from sophmate_desktop.store.transitions.spooled import PlanSpool, SpooledPlan, WriteRows
from sophmate_desktop.store.workflows import LoadedWorkflow

STREAM_MIN_BYTES = 1 << 20  # smaller inputs are planned whole, with the runs of a batch
BATCH_ROWS = 2_000


def streams(run: ClaimedRun, wf: LoadedWorkflow, min_bytes: int = STREAM_MIN_BYTES) -> bool:
    """Whether `run` is planned in batches (see the module's text)."""
    defn = wf.definition
    spec = defn.input
    if spec is None or spec.read != "csv" or not run.trigger_path:
        return False
    if not any(s.for_each for s in defn.steps):
        return False
    if any(s.for_each not in (None, "rows") for s in defn.steps):
        return False
    if any(s.action not in BUILTIN_ACTION_EFFECTS for s in defn.steps):
        return False
    if defn.prompts:  # answers flow from step to step: planned whole
        return False
    if _reads_whole_input(defn):
        return False
    try:
        return os.stat(run.trigger_path).st_size >= min_bytes
    except OSError:  # planned whole: the reading reports it
        return False


def _reads_whole_input(defn: WorkflowDefinition) -> bool:
    try:
        return any("input" in referenced_names(t) for s in defn.steps for t in _texts(s.params))
    except TemplateError:
        return True  # planned whole, where the error is reported as always


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    if isinstance(value, Mapping):
        return [t for v in value.values() for t in _texts(v)]
    return []


class _Records:
    """Which input records have a write: a bit per record, not a set of numbers."""

    def __init__(self) -> None:
        self._seen = bytearray()
        self.other = 0  # records stood for by writes of no particular record

    def add(self, planned: list[PlannedWrite]) -> None:
        for w in planned:
            if w.record_number is None:
                self.other += w.records
                continue
            if w.record_number > len(self._seen):
                self._seen.extend(bytes(max(w.record_number - len(self._seen), 1 << 16)))
            self._seen[w.record_number - 1] = 1

    def affected(self) -> int:
        numbered = self._seen.count(1)
        return numbered if numbered else self.other


def plan_in_batches(
    guard: PlanGuard,
    ctx: PlanContext,
    item: InFlight,
    wf: LoadedWorkflow,
    changed: Mapping[str, Any],
    clean_runs: int,
    batch_rows: int = BATCH_ROWS,
) -> SpooledPlan:
    """The run's whole plan in a spool (the caller stores it, then closes the spool);
    raises what the whole-input plan raises (Cancelled, TooManyWrites, ActionError)."""
    defn = wf.definition
    assert ctx.file is not None and defn.input is not None  # streams() said so
    rows = CsvBatches(Path(ctx.file.path), defn.input)
    check_limit_early(defn, rows)
    writes = WriteRows(ctx.run_id, wf, ctx.mode, clean_runs)
    spool = PlanSpool()
    try:
        records = _Records()
        costs = False
        for index, step in enumerate(defn.steps):
            for planned in _step_batches(guard, ctx, item, step, index, rows, batch_rows):
                if item.cancelled.is_set():
                    raise Cancelled(item.reason)
                done = writes.counts["writes"]
                check_max_writes(defn, done + len(planned), at_least=True)
                record_connection_state(planned, changed, start=done)
                records.add(planned)
                costs = costs or any(w.cost for w in planned)
                spool.add(writes.rows(planned))
        if item.cancelled.is_set():
            raise Cancelled(item.reason)
        writes.counts["affected_records"] = records.affected()
        return SpooledPlan(ctx.run_id, wf, rows.bytes_read, writes, spool, costs)
    except BaseException:
        spool.close()
        raise


def _step_batches(
    guard: PlanGuard,
    ctx: PlanContext,
    item: InFlight,
    step: StepSpec,
    index: int,
    rows: CsvBatches,
    batch_rows: int,
):
    if item.cancelled.is_set():
        raise Cancelled(item.reason)
    if step.for_each is None:
        yield guard.plan_step(step, ctx, index)
        return
    for first, batch in rows.batches(batch_rows):
        if item.cancelled.is_set():
            raise Cancelled(item.reason)
        yield guard.armed(ctx, lambda b=batch, f=first: plan_records(step, ctx, index, b, f))


def check_limit_early(defn: WorkflowDefinition, rows: CsvBatches) -> None:
    """TooManyWrites before any planning when the rows alone take the run over
    `max_writes`: rows are counted only up to the first one over the limit."""
    limit = defn.max_writes
    if limit is None:
        return
    per_row = sum(1 for s in defn.steps if s.for_each)
    once = len(defn.steps) - per_row
    ceiling = max(limit - once, 0) // per_row + 1  # this many rows are over the limit
    counted = rows.count(ceiling)
    check_max_writes(defn, counted * per_row + once, at_least=counted >= ceiling)
