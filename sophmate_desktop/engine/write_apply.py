"""Applying approved writes in batches, on the engine's applier threads: claim a
batch (one transaction), apply each write in order, record the outcomes (one
transaction, journaled first and retried until the database takes them: see
recording.py) and announce them. A stale preview is planned again; a kill switch's
cancel ends a write as killed; a write a pause or shutdown reached before it started
goes back to approved."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peewee import Database

from sophmate_desktop.domain.enums import RunStatus
from sophmate_desktop.domain.names import EventKind
from sophmate_desktop.domain.templates import mask_values
from sophmate_desktop.engine.actions.base import ApplyContext, ApplyResult, Cancelled, Stale
from sophmate_desktop.engine.actions.paths import DirSync
from sophmate_desktop.engine.actions.registry import get_action
from sophmate_desktop.engine.apply_io import ChainPool
from sophmate_desktop.engine.handles import SHUTDOWN_REASON, InFlight, InFlightTable
from sophmate_desktop.engine.recording import OutcomeRecorder
from sophmate_desktop.engine.replan import ConnectionStale, check_connection, replan_from_steps
from sophmate_desktop.secrets import SecretStore
from sophmate_desktop.store.models import Run, Workflow
from sophmate_desktop.store.outcome_journal import Outcome
from sophmate_desktop.store.transitions.applying import begin_applies
from sophmate_desktop.store.transitions.outcomes import finish_apply
from sophmate_desktop.store.transitions.stale import replace_stale
from sophmate_desktop.store.undo_blobs import undo_dir_of
from sophmate_desktop.store.workflows import connection_state, effects_of, load_workflow_by_id

log = logging.getLogger(__name__)


@dataclass
class _Attempt:
    """What applying one write did: its result or the exception it raised."""

    action: Any = None
    result: ApplyResult | None = None
    error: Exception | None = None
    started: bool = True


FINISH_WAIT_S = 30.0  # an applier thread waiting for the monitor's batch
# The built-in file actions: applied side by side within a batch (a plug-in's apply
# is not known to be safe on more threads than the appliers').
SIDE_BY_SIDE = frozenset({"write_file", "copy_file", "move_file", "undo_file"})


def mask(text: str) -> str:
    return mask_values(text, SecretStore.values_seen())


class WriteApplying:
    """The applier side of the Executor (engine/execution.py): its attributes are set
    by the Executor's constructor."""

    db: Database
    _host: str
    _inflight: InFlightTable
    _secrets: SecretStore
    _publish: Callable[..., None]
    _stopping: threading.Event
    _recorder: OutcomeRecorder
    _undo_dir: Path | None
    _io: ChainPool  # file writes of a batch side by side (engine/apply_io.py)

    _plan_context: Callable[..., tuple]  # the Executor's: planning a stale write again

    def close_io(self) -> None:
        """End the file-write threads (the engine's stop, once the appliers ended)."""
        self._io.shutdown()

    def apply_write(self, write_id: int) -> None:
        self.apply_batch([write_id])

    def apply_batch(self, write_ids: list[int]) -> None:
        """Claim the writes that may be applied now (one transaction), apply each in
        order, record their outcomes (one transaction, journaled first, retried until
        the database takes them) and announce them."""
        if self._stopping.is_set():
            return  # they stay approved: the next engine applies them
        writes, refused = begin_applies(self.db, write_ids, self._host)
        for write_id, why in refused.items():
            log.debug("write %s not applied now: %s", write_id, why)
        if not writes:
            return
        names = dict(
            Workflow.select(Workflow.id, Workflow.name)
            .where(Workflow.id.in_(list({w.workflow_id for w in writes})))
            .tuples()
        )
        items = [
            self._inflight.add(
                InFlight("write", w.id, names[w.workflow_id], w.category, tuple(effects_of(w)))
            )
            for w in writes
        ]
        if self._stopping.is_set():  # the engine's stop did not see them in flight
            for item in items:
                item.cancel(SHUTDOWN_REASON, shutdown=True)
        outcomes: list[Outcome] = []
        ended: dict[int, str] = {}  # recorded on their own (stale) or by the monitor
        dirs = DirSync()
        try:
            for w, item, attempt in self._apply_all(writes, items, dirs):
                outcome = self._conclude(w, item, attempt, ended)
                if outcome is not None:
                    outcomes.append(outcome)
        finally:
            for item in items:
                self._inflight.remove(item)
        # The renames are durable before any outcome says so (the journal, the database).
        dirs.flush()
        statuses = self._recorder.record(outcomes)
        if statuses is None:
            return  # the engine stops: the journal keeps them for the next engine
        recorded = {o.write_id: statuses[o.write_id] for o in outcomes if o.write_id in statuses}
        self._announce(writes, names, {**recorded, **ended})

    def _apply_all(self, writes: list, items: list[InFlight], dirs: DirSync):
        """(write, item, attempt) for each write of a batch: the file writes applied side
        by side first (engine/apply_io.py: one chain per target, in batch order), then
        the others in order on this thread, each concluded before the next starts."""
        if self._undo_dir is None:
            self._undo_dir = undo_dir_of(self.db)
        chains: dict[str, list[tuple[Any, InFlight]]] = {}
        others = []
        for w, item in zip(writes, items, strict=True):
            if w.kind in SIDE_BY_SIDE and not w.payload.get("connection"):
                chains.setdefault(w.target, []).append((w, item))
            else:
                others.append((w, item))
        done = self._io.run(list(chains.values()), lambda wi: self._attempt(*wi, {}, dirs))
        attempts = {
            w.id: a
            for chain, results in zip(chains.values(), done, strict=True)
            for (w, _), a in zip(chain, results, strict=True)
        }
        for w, item in zip(writes, items, strict=True):
            if w.id in attempts:
                yield w, item, attempts[w.id]
        modes: dict[int, str] = {}
        for w, item in others:
            yield w, item, self._attempt(w, item, modes, None)

    def _announce(self, writes, names: dict, statuses: dict[int, str]) -> None:
        failed: dict[int, str] = {}
        for w in writes:
            status = statuses.get(w.id)
            if status is None:
                continue
            self._publish(EventKind.WRITE_FINISHED, write=w.id, run=w.run_id, status=status)
            if status == RunStatus.FAILED:
                failed[w.run_id] = names[w.workflow_id]
        for run_id, workflow in failed.items():
            self._publish(EventKind.RUN_FAILED, run=run_id, workflow=workflow)

    def _attempt(self, write, item: InFlight, modes: dict, dirs: DirSync | None) -> _Attempt:
        """Apply one write (on an applier or an I/O thread: no database here for a file
        write); what happened, to conclude on the applier thread."""
        if item.cancelled.is_set():  # a pause or a shutdown came before it started
            return _Attempt(started=False)
        action = None
        try:
            action = get_action(write.kind)
            ctx, changed = self._apply_context(write, item, modes, dirs)
            ctx.check()
            check_connection(write.payload, changed)
            return _Attempt(action, action.apply(write.payload, ctx))
        except Exception as exc:
            return _Attempt(action, error=exc)

    def _conclude(self, write, item: InFlight, attempt: _Attempt, ended: dict) -> Outcome | None:
        """The outcome of one attempted write (None: recorded already, in `ended` when it
        was this thread that recorded it)."""
        if not attempt.started:
            return self._outcome(item, released=item.reason or "stopped")
        exc, result = attempt.error, attempt.result
        if isinstance(exc, Cancelled):
            if item.shutdown:  # its effect is unknown: resumed or interrupted, not failed
                return self._outcome(item, interrupted=True)
            # a kill switch stopped it: not tried again by itself
            return self._outcome(item, error=mask(f"killed: {item.reason or exc}"), retry=False)
        if isinstance(exc, Stale):
            status = self._stale(item, attempt.action, write, exc)
            if status is not None:
                ended[write.id] = status
            return None
        if exc is not None or result is None:
            return self._outcome(item, error=mask(str(exc) or type(exc).__name__))
        return self._outcome(
            item, undo=result.undo, bytes_written=result.bytes_written, cost=result.cost
        )

    def _outcome(self, item: InFlight, **outcome) -> Outcome | None:
        """The outcome to record, unless the monitor that killed this write's command
        records it (in its batch): then wait for that and return None."""
        if not item.take_finish("thread"):
            item.finish_done.wait(FINISH_WAIT_S)
            if item.finished_by_monitor:
                return None
        return Outcome(item.id, **outcome)

    def _apply_context(
        self, write, item: InFlight, modes: dict, dirs: DirSync | None
    ) -> tuple[ApplyContext, dict]:
        settings: dict = {}
        changed: dict = {}
        if write.payload.get("connection"):
            if write.run_id not in modes:
                modes[write.run_id] = Run.get_by_id(write.run_id).mode
            # The settings sent with and their version come from one read: no window
            # between the staleness check and the settings used.
            settings, _, changed = connection_state(
                [write.payload["connection"]], modes[write.run_id]
            )
        context = ApplyContext(
            idempotency_key=write.idempotency_key,
            secret=self._secrets.get,
            connections=settings,
            cancelled=item.cancelled,
            register_process=item.add_process,
            undo_dir=self._undo_dir,
            sync_dir=dirs.defer if dirs is not None else None,
        )
        return context, changed

    def _replan(self, action, write, stale: Stale):
        if isinstance(stale, ConnectionStale):
            run = Run.get_by_id(write.run_id)
            ctx, _, changed = self._plan_context(run, load_workflow_by_id(run.workflow_id))
            return replan_from_steps(write.payload, write.kind, ctx, changed)
        replan = getattr(action, "replan", None)
        if replan is None:
            raise Stale(f"{write.kind} cannot be previewed again")
        return replan(write.payload)

    def _stale(self, item: InFlight, action, write, stale: Stale) -> str | None:
        """Not applied: what it was previewed against changed. It is planned again with
        a fresh preview, for a new decision; when it cannot be (the source is gone), it
        fails with the reason."""
        reason = mask(str(stale))
        try:
            planned = self._replan(action, write, stale)
        except Exception as exc:
            return self._finish(item, error=mask(f"{reason}; planning it again failed: {exc}"))
        if not item.take_finish("thread"):
            return self._finish(item, error=reason)  # the monitor records it
        replanned = {
            "target": planned.target,
            "summary": planned.summary,
            "preview": planned.preview,
            "payload": planned.payload,
        }
        what = "file" if write.effect == "file" else "connection"
        comment = f"the {what} changed since this preview"
        new_id, status = replace_stale(self.db, item.id, reason, replanned, comment)
        if new_id is not None:
            self._publish(EventKind.for_run(status), run=write.run_id, workflow=item.workflow)
        return status

    def _finish(self, item: InFlight, **outcome) -> str | None:
        """finish_apply, unless the monitor that killed this write's command records it
        (in its batch): then wait for that and return None."""
        if not item.take_finish("thread"):
            item.finish_done.wait(FINISH_WAIT_S)
            if item.finished_by_monitor:
                return None
        return finish_apply(self.db, item.id, **outcome)
