"""Executing one run (read input, plan every step, record the writes) and applying
one approved write. Cooperative checkpoints let a kill switch stop both."""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

from peewee import Database

from sophmate_desktop.domain import policy
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import BUILTIN_ACTION_EFFECTS, RunStatus
from sophmate_desktop.domain.names import AuditAction, EventKind
from sophmate_desktop.engine.actions import affected_records, plan_step
from sophmate_desktop.engine.actions.base import (
    Cancelled,
    PlanContext,
    TriggerFile,
)
from sophmate_desktop.engine.actions.registry import plugin_versions
from sophmate_desktop.engine.handles import InFlight, InFlightTable, wait_reaped
from sophmate_desktop.engine.inputs import read_input
from sophmate_desktop.engine.recording import DatabaseHealth, OutcomeRecorder
from sophmate_desktop.engine.replan import (
    record_connection_state,
)
from sophmate_desktop.engine.write_apply import WriteApplying, mask
from sophmate_desktop.secrets import SecretStore
from sophmate_desktop.store import queries
from sophmate_desktop.store.models import Run, Workflow
from sophmate_desktop.store.sql import queued_transaction
from sophmate_desktop.store.transitions.events import run_event
from sophmate_desktop.store.transitions.intake import claim, store_plan
from sophmate_desktop.store.transitions.killed import finish_killed
from sophmate_desktop.store.transitions.outcomes import (
    auto_pause_workflow,
    cancel_run,
    fail_run,
)
from sophmate_desktop.store.transitions.recovery import requeue_stopped_run
from sophmate_desktop.store.transitions.runs import hold_running_run
from sophmate_desktop.store.workflows import (
    LoadedWorkflow,
    connection_state,
    load_workflow_by_id,
)

log = logging.getLogger(__name__)

KILL_WAIT_S = 1.0  # a killed command's exit, before the monitor records it
FINISH_WAIT_S = 30.0  # an applier thread waiting for the monitor's batch


def output_paths(wf: LoadedWorkflow, mode: str) -> tuple[Path, ...]:
    out = wf.definition.output
    if out is None:
        return ()
    raw = out.staging_paths if mode == "staging" else out.paths
    return tuple(Path(p).expanduser() for p in raw)


class PluginChanged(Exception):
    pass


class Executor(WriteApplying):
    """Plans runs and applies writes on the engine's worker and applier threads."""

    def __init__(
        self,
        db: Database,
        *,
        host: str,
        inflight: InFlightTable,
        secrets: SecretStore,
        publish: Callable[..., None],
        enqueue_writes: Callable[[Iterable[int]], None],
        notify_failure: Callable[[LoadedWorkflow, int, str], None],
        stopping: threading.Event | None = None,
        recorder: OutcomeRecorder | None = None,
    ) -> None:
        self.db = db
        self._host = host
        self._inflight = inflight
        self._secrets = secrets
        self._publish = publish
        self._enqueue_writes = enqueue_writes
        self._notify_failure = notify_failure
        self._stopping = stopping or threading.Event()
        self._recorder = recorder or OutcomeRecorder(
            db,
            health=DatabaseHealth(db, publish),
            publish=publish,
            stopping=self._stopping,
            claimer=host,
        )
        self._undo_dir: Path | None = None

    # Runs ------------------------------------------------------------------

    def execute_run(self, run_id: int, item: InFlight | None = None) -> None:
        """Plan one run. `item`: the intake started it already (claimed, in flight and
        announced); otherwise claim it here."""
        wf: LoadedWorkflow | None = None
        if item is None:
            claimed = self._claim_run(run_id)
            if claimed is None:
                return
            run, wf, item = claimed
        try:
            if wf is None:
                run = Run.get_by_id(run_id)
                wf = load_workflow_by_id(run.workflow_id)
            self._check_plugins(wf, run_id)
            self._plan(run, wf, item)
        except Cancelled:
            self._stopped(run_id, item)
        except PluginChanged:
            pass
        except Exception as exc:
            self._record_failure(run_id, exc, item, wf)
        finally:
            self._inflight.remove(item)

    def _stopped(self, run_id: int, item: InFlight) -> None:
        """Planning stopped: a shutdown queues the run again, a kill switch cancels it."""
        if item.shutdown and requeue_stopped_run(self.db, run_id):
            self._publish(EventKind.RUN_QUEUED, run=run_id, workflow=item.workflow)
            return
        cancel_run(self.db, run_id, item.reason or "stopped by a kill switch")
        self._publish(EventKind.RUN_CANCELLED, run=run_id, workflow=item.workflow)

    def _claim_run(self, run_id: int) -> tuple[Run, LoadedWorkflow, InFlight] | None:
        """Claim the run, put it in flight and announce it; None if another host has it."""
        added: list[InFlight] = []

        def in_flight(loaded: LoadedWorkflow) -> None:
            added.append(
                self._inflight.add(InFlight("run", run_id, loaded.name, loaded.category, ()))
            )

        try:
            claimed = claim(self.db, run_id, self._host, in_flight)
        except BaseException:
            for i in added:
                self._inflight.remove(i)
            raise
        if claimed is None:
            return None
        run, wf = claimed
        item = added[0]
        self._publish(EventKind.RUN_STARTED, run=run_id, workflow=wf.name)
        return run, wf, item

    def _record_failure(
        self, run_id: int, exc: Exception, item: InFlight, wf: LoadedWorkflow | None
    ) -> None:
        # Called from the except block: format_exc() reads the exception being handled.
        error = mask(str(exc) or type(exc).__name__)
        diagnostics = {
            "traceback": mask(traceback.format_exc())[-8000:],
            "exception": type(exc).__name__,
        }
        outcome = fail_run(self.db, run_id, error, diagnostics)
        if outcome.final:
            self._publish(
                EventKind.RUN_FAILED,
                run=run_id,
                workflow=item.workflow,
                error=error,
                notification=outcome.notified,
                paused=outcome.paused,
            )
            if wf is not None:
                self._notify_failure(wf, run_id, error)

    def _check_plugins(self, wf: LoadedWorkflow, run_id: int) -> None:
        custom = {s.action for s in wf.definition.steps} - set(BUILTIN_ACTION_EFFECTS)
        if not custom:
            return
        installed = plugin_versions()
        now_versions = {name: installed.get(name) for name in sorted(custom)}
        if now_versions == wf.plugin_versions:
            return
        changed = {
            k: (wf.plugin_versions.get(k), v)
            for k, v in now_versions.items()
            if wf.plugin_versions and wf.plugin_versions.get(k) != v
        }
        with queued_transaction(self.db):
            pause = changed and policy.pauses_on_plugin_update(wf.definition.pause)
            Workflow.update(plugin_versions=now_versions).where(Workflow.id == wf.id).execute()
            if changed:  # a provider change: a review falls due, a relaxed gate tightens
                Workflow.update(last_provider_change_at=utcnow(), gate_tightened_at=utcnow()).where(
                    Workflow.id == wf.id
                ).execute()
            if pause:
                # Back to the queue and held there, like a run that arrives while its
                # workflow is paused: replayed on resume.
                reason = "plug-in updated: " + ", ".join(
                    f"{k} {a} -> {b}" for k, (a, b) in changed.items()
                )
                held = run_event(
                    AuditAction.RUN_HELD,
                    run_id,
                    workflow=wf.name,
                    category=wf.category,
                    reason=reason,
                )
                hold_running_run(self.db, run_id, held)
                auto_pause_workflow(
                    self.db,
                    wf.id,
                    wf.name,
                    wf.category,
                    wf.definition.owner,
                    reason=reason,
                    cause="plugin_update",
                    run_id=run_id,
                    details={"versions": now_versions},
                )
        if pause:
            self._publish(EventKind.WORKFLOW_AUTO_PAUSED, workflow=wf.name)
            raise PluginChanged(wf.name)

    def _plan_context(self, run: Run, wf: LoadedWorkflow) -> tuple[PlanContext, int, dict]:
        """What the run's steps plan with, the bytes read, and when each connection last
        changed (read with its settings)."""
        path = Path(run.trigger_path) if run.trigger_path else None
        data, nbytes = read_input(path, wf.definition.input)
        trigger = None
        if path is not None:
            trigger = TriggerFile(
                path,
                run.trigger_size or 0,
                int((run.trigger_mtime or 0) * 1e9),
                run.trigger_hash or "",
            )
        settings, kinds, changed = connection_state(wf.definition.connections, run.mode)
        ctx = PlanContext(
            workflow=wf.definition,
            run_id=run.id,
            mode=run.mode,
            file=trigger,
            input=data,
            output_paths=output_paths(wf, run.mode),
            connections=settings,
            connection_kinds=kinds,
        )
        return ctx, nbytes, changed

    def _plan(self, run: Run, wf: LoadedWorkflow, item: InFlight) -> None:
        ctx, nbytes, changed = self._plan_context(run, wf)
        planned = []
        for index, step in enumerate(wf.definition.steps):
            if item.cancelled.is_set():
                raise Cancelled(item.reason)
            planned.extend(plan_step(step, ctx, index))
        if item.cancelled.is_set():
            raise Cancelled(item.reason)
        record_connection_state(planned, changed)
        # Only the approval gate of a staged run reads it: a dry run plans, never applies.
        clean = (
            0
            if run.mode == "dry_run"
            else queries.count_clean_approved_runs(wf.id, wf.gate_tightened_at)
        )
        status, auto = store_plan(
            self.db, run.id, wf, planned, nbytes, clean, affected_records(planned)
        )
        self._publish(EventKind.for_run(status), run=run.id, workflow=wf.name)
        if auto:
            self._enqueue_writes(auto)

    def stop_items(self, stopping: list[tuple[InFlight, str]]) -> None:
        """On the monitor: stop what a pause covers. Every command is killed before any
        applier thread is woken, and the writes whose commands were killed end in ONE
        transaction here (one per applier thread took seconds for 100 commands)."""
        mine = [
            item
            for item, _ in stopping
            if item.kind == "write" and item.processes and item.take_finish("monitor")
        ]
        for item, reason in stopping:
            item.kill(reason)
        # Threads whose writes the batch records are woken after it: waking a hundred
        # threads at once would slow the batch down (they all want the GIL).
        for item, _ in stopping:
            if not any(item is m for m in mine):
                item.cancelled.set()
        if mine:
            try:
                self._finish_killed(mine)
            finally:
                for item in mine:
                    item.cancelled.set()

    def _finish_killed(self, mine: list[InFlight]) -> None:
        def confirm() -> set[int]:
            # the kernel tears the processes down while the batch is written
            wait_reaped([p for i in mine for p in i.killed], KILL_WAIT_S)
            return {i.id for i in mine if i.killed_and_gone()}

        done: list[tuple[int, int, str]] = []
        try:
            errors = {i.id: mask(f"killed: {i.reason}") for i in mine if i.killed}
            done = finish_killed(self.db, errors, confirm)
        except Exception:
            log.exception("finishing %d killed writes failed; their threads finish them", len(mine))
        finally:
            # the rest (a command that ended by itself, or not yet reaped) end in their thread
            finished = {write_id for write_id, _, _ in done}
            for i in mine:
                i.end_finish(i.id in finished)
        names = {i.id: i.workflow for i in mine}
        failed_runs: dict[int, str] = {}
        for write_id, run_id, status in done:
            self._publish(EventKind.WRITE_FINISHED, write=write_id, run=run_id, status=status)
            if status == RunStatus.FAILED:
                failed_runs[run_id] = names[write_id]
        for run_id, workflow in failed_runs.items():
            self._publish(EventKind.RUN_FAILED, run=run_id, workflow=workflow)
