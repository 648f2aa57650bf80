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
from pathlib import Path

from peewee import Database

from sophmate_desktop.domain.enums import RunStatus
from sophmate_desktop.domain.names import EventKind
from sophmate_desktop.domain.templates import mask_values
from sophmate_desktop.engine.actions.base import ApplyContext, Cancelled, Stale
from sophmate_desktop.engine.actions.registry import get_action
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

FINISH_WAIT_S = 30.0  # an applier thread waiting for the monitor's batch


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

    _plan_context: Callable[..., tuple]  # the Executor's: planning a stale write again

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
        modes: dict[int, str] = {}
        try:
            for w, item in zip(writes, items, strict=True):
                outcome = self._apply(w, item, modes, ended)
                if outcome is not None:
                    outcomes.append(outcome)
        finally:
            for item in items:
                self._inflight.remove(item)
        statuses = self._recorder.record(outcomes)
        if statuses is None:
            return  # the engine stops: the journal keeps them for the next engine
        recorded = {o.write_id: statuses[o.write_id] for o in outcomes if o.write_id in statuses}
        self._announce(writes, names, {**recorded, **ended})

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

    def _apply(self, write, item: InFlight, modes: dict, ended: dict) -> Outcome | None:
        """Apply one write of a batch; its outcome (None: recorded already, in `ended`
        when it was this thread that recorded it)."""
        if item.cancelled.is_set():  # a pause or a shutdown came before it started
            return self._outcome(item, released=item.reason or "stopped")
        try:
            action = get_action(write.kind)
            ctx, changed = self._apply_context(write, item, modes)
            ctx.check()
            check_connection(write.payload, changed)
            result = action.apply(write.payload, ctx)
        except Cancelled as exc:
            if item.shutdown:  # its effect is unknown: resumed or interrupted, not failed
                return self._outcome(item, interrupted=True)
            # a kill switch stopped it: not tried again by itself
            return self._outcome(item, error=mask(f"killed: {item.reason or exc}"), retry=False)
        except Stale as exc:
            status = self._stale(item, action, write, exc)
            if status is not None:
                ended[write.id] = status
            return None
        except Exception as exc:
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

    def _apply_context(self, write, item: InFlight, modes: dict) -> tuple[ApplyContext, dict]:
        if write.run_id not in modes:
            modes[write.run_id] = Run.get_by_id(write.run_id).mode
        conn_names = [write.payload.get("connection")] if write.payload.get("connection") else []
        # The settings sent with and their version come from one read: no window between
        # the staleness check and the settings used.
        settings, _, changed = (
            connection_state(conn_names, modes[write.run_id]) if conn_names else ({}, {}, {})
        )
        if self._undo_dir is None:
            self._undo_dir = undo_dir_of(self.db)
        context = ApplyContext(
            idempotency_key=write.idempotency_key,
            secret=self._secrets.get,
            connections=settings,
            cancelled=item.cancelled,
            register_process=item.add_process,
            undo_dir=self._undo_dir,
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

