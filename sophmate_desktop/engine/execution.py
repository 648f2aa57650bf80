"""Executing one run (read input, plan every step, record the writes) and applying
one approved write. Cooperative checkpoints let a kill switch stop both."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from peewee import Database

from sophmate_desktop.domain import policy
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import BUILTIN_ACTION_EFFECTS, EffectKind, RunStatus
from sophmate_desktop.domain.names import AuditAction, EventKind
from sophmate_desktop.engine import plan_stream
from sophmate_desktop.engine.actions import affected_records
from sophmate_desktop.engine.actions.base import (
    Cancelled,
    Held,
    PlanContext,
    TriggerFile,
)
from sophmate_desktop.engine.actions.registry import plugin_versions
from sophmate_desktop.engine.apply_io import ChainPool
from sophmate_desktop.engine.handles import InFlight, InFlightTable, wait_reaped
from sophmate_desktop.engine.inputs import check_max_writes, expected_writes, read_input
from sophmate_desktop.engine.plan_guard import DEFAULT_PLAN_TIMEOUT_S, PlanGuard
from sophmate_desktop.engine.plan_guard import guarded_plan_step as plan_step
from sophmate_desktop.engine.prompt_runs import (
    hold_run,
    prompt_access,
    provider_error,
    record_calls,
)
from sophmate_desktop.engine.recording import DatabaseHealth, OutcomeRecorder
from sophmate_desktop.engine.replan import (
    record_connection_state,
)
from sophmate_desktop.engine.write_apply import WriteApplying, mask
from sophmate_desktop.secrets import SecretStore
from sophmate_desktop.store import queries
from sophmate_desktop.store.models import Workflow
from sophmate_desktop.store.sql import queued_transaction
from sophmate_desktop.store.transitions.events import run_event
from sophmate_desktop.store.transitions.killed import finish_killed
from sophmate_desktop.store.transitions.outcomes import (
    auto_pause_workflow,
    cancel_run,
    fail_run,
)
from sophmate_desktop.store.transitions.plans import (
    ClaimedRun,
    Plan,
    claim_many,
    load_runs,
    store_plans,
)
from sophmate_desktop.store.transitions.recovery import requeue_stopped_run
from sophmate_desktop.store.transitions.runs import hold_running_run
from sophmate_desktop.store.transitions.spooled import store_spooled_plan
from sophmate_desktop.store.workflows import (
    LoadedWorkflow,
    connection_state,
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


@dataclass
class BatchMemo:
    """What the runs of one batch look up once: each workflow's count of clean approved
    runs, and the output folders resolved (each apply resolves its target again)."""

    clean: dict[int, int] = field(default_factory=dict)
    folders: dict[str, str] = field(default_factory=dict)


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
        # Planning renders in the guard, where a pause or the time limit ends it.
        self.plan_timeout_s = DEFAULT_PLAN_TIMEOUT_S  # the setting; the engine refreshes it
        self.guard = PlanGuard(inflight, self._plan_limit_s)
        self._recorder = recorder or OutcomeRecorder(
            db,
            health=DatabaseHealth(db, publish),
            publish=publish,
            stopping=self._stopping,
            claimer=host,
        )
        self._undo_dir: Path | None = None
        self.stream_min_bytes = plan_stream.STREAM_MIN_BYTES  # inputs this big stream
        self._io = ChainPool()

    def _plan_limit_s(self, ctx: PlanContext) -> float:
        return getattr(ctx.workflow, "plan_timeout_s", None) or self.plan_timeout_s

    # Runs ------------------------------------------------------------------

    def execute_run(self, run_id: int, item: InFlight | None = None) -> None:
        """Plan one run. `item`: the intake started it already (claimed, in flight and
        announced); otherwise claim it here."""
        self.execute_runs([(run_id, item)])

    def execute_runs(self, entries: Sequence[tuple[int, InFlight | None]]) -> None:
        """Plan several runs: those without an item claimed in one transaction, each
        planned in turn (its own cancel checkpoints and failure), and the plans that
        reached the end recorded in one transaction."""
        jobs = self._claim_runs([run_id for run_id, item in entries if item is None])
        given = {run_id: item for run_id, item in entries if item is not None}
        try:
            if given:
                loaded = load_runs(self.db, list(given))
                jobs += [(run, wf, given.pop(run.id)) for run, wf in loaded]
        finally:
            for item in given.values():  # a run that no longer exists
                self._inflight.remove(item)
        ready: list[tuple[Plan, InFlight]] = []
        try:
            memo = BatchMemo()
            for run, wf, item in jobs:
                plan = self._plan_guarded(run, wf, item, memo)
                if plan is not None:
                    ready.append((plan, item))
            self._store(ready)
        finally:
            for _, _, item in jobs:
                self._inflight.remove(item)

    def _plan_guarded(
        self, run: ClaimedRun, wf: LoadedWorkflow, item: InFlight, memo: BatchMemo
    ) -> Plan | None:
        """The run's plan, or None when it ended otherwise (stopped, held, failed);
        the prompt calls such a run made are recorded all the same."""
        calls: list[dict] = []
        if wf.definition.prompts:
            item.effects = (EffectKind.AI,)  # the `ai` switch reaches it in flight
        try:
            self._check_plugins(wf, run.id)
            if plan_stream.streams(run, wf, self.stream_min_bytes):
                self._plan_and_store_streamed(run, wf, item, memo.clean)
                return None
            return self._plan(run, wf, item, memo, calls)
        except Held as exc:
            record_calls(self.db, run.id, wf, calls)
            self._held(run.id, item, str(exc))
        except Cancelled:
            record_calls(self.db, run.id, wf, calls)
            self._stopped(run.id, item)
        except PluginChanged:
            pass
        except Exception as exc:
            record_calls(self.db, run.id, wf, calls)
            self._record_failure(run.id, exc, item, wf)
        return None

    def _held(self, run_id: int, item: InFlight, reason: str) -> None:
        if hold_run(self.db, run_id, None, reason):
            self._publish(EventKind.RUN_HELD, run=run_id, workflow=item.workflow)

    def _store(self, ready: list[tuple[Plan, InFlight]]) -> None:
        """Record the plans in one transaction (one by one if that fails, so that one
        run's failure is its own), then announce each run and queue what was approved."""
        stopped = [(p, i) for p, i in ready if i.cancelled.is_set()]
        for plan, item in stopped:
            self._stopped(plan.run_id, item)
        ready = [(p, i) for p, i in ready if not i.cancelled.is_set()]
        if not ready:
            return
        try:
            outcome = store_plans(self.db, [p for p, _ in ready])
        except Exception:
            if len(ready) == 1:
                plan, item = ready[0]
                self._record_failure(plan.run_id, sys.exc_info()[1], item, plan.wf)
                return
            for one in ready:
                self._store([one])
            return
        auto: list[int] = []
        for plan, _ in ready:
            status, approved = outcome[plan.run_id]
            self._publish(EventKind.for_run(status), run=plan.run_id, workflow=plan.wf.name)
            auto += approved
        if auto:
            self._enqueue_writes(auto)

    def _stopped(self, run_id: int, item: InFlight) -> None:
        """Planning stopped: a shutdown queues the run again, the `ai` switch holds it,
        another kill switch cancels it."""
        if item.shutdown and requeue_stopped_run(self.db, run_id):
            self._publish(EventKind.RUN_QUEUED, run=run_id, workflow=item.workflow)
            return
        if item.hold and not item.shutdown:
            self._held(run_id, item, item.reason or "AI prompts are paused")
            return
        cancel_run(self.db, run_id, item.reason or "stopped by a kill switch")
        self._publish(EventKind.RUN_CANCELLED, run=run_id, workflow=item.workflow)

    def _claim_runs(self, run_ids: list[int]) -> list[tuple[ClaimedRun, LoadedWorkflow, InFlight]]:
        """Claim the runs in one transaction, put each in flight and announce it; a run
        another worker or host has is left out."""
        if not run_ids:
            return []
        added: dict[int, InFlight] = {}

        def in_flight(run: ClaimedRun, loaded: LoadedWorkflow) -> None:
            added[run.id] = self._inflight.add(
                InFlight("run", run.id, loaded.name, loaded.category, ())
            )

        try:
            claimed = claim_many(self.db, run_ids, self._host, in_flight)
        except BaseException:
            for i in added.values():
                self._inflight.remove(i)
            raise
        for run, wf in claimed:
            self._publish(EventKind.RUN_STARTED, run=run.id, workflow=wf.name)
        return [(run, wf, added[run.id]) for run, wf in claimed]

    def _record_failure(
        self, run_id: int, exc: Exception, item: InFlight, wf: LoadedWorkflow | None
    ) -> None:
        # Called from the except block: format_exc() reads the exception being handled.
        error = mask(str(exc) or type(exc).__name__)
        diagnostics = {
            "traceback": mask(traceback.format_exc())[-8000:],
            "exception": type(exc).__name__,
        }
        provider = provider_error(exc)
        if provider is not None:
            diagnostics["provider"] = {
                "status": provider.status,
                "request_id": provider.request_id,
                "retryable": provider.retryable,
                "retry_after_s": provider.retry_after_s,
            }
        outcome = fail_run(
            self.db,
            run_id,
            error,
            diagnostics,
            retryable=provider is None or provider.retryable,
            not_before_s=(provider.retry_after_s or 0.0) if provider else 0.0,
        )
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

    def _plan_and_store_streamed(
        self, run: ClaimedRun, wf: LoadedWorkflow, item: InFlight, clean: dict[int, int]
    ) -> None:
        """A run over a big input: planned in batches and stored on its own, in one
        transaction, once whole (engine/plan_stream.py)."""
        ctx, _, changed = self._plan_context(run, wf, read=False)
        clean_runs = self._clean_runs(run, wf, clean)
        plan = plan_stream.plan_in_batches(self.guard, ctx, item, wf, changed, clean_runs)
        with plan.spool:

            def check() -> None:
                if item.cancelled.is_set():
                    raise Cancelled(item.reason)

            status, approved = store_spooled_plan(self.db, plan, check)
        self._publish(EventKind.for_run(status), run=run.id, workflow=wf.name)
        if approved:
            self._enqueue_writes(approved)

    def _clean_runs(self, run: ClaimedRun, wf: LoadedWorkflow, clean: dict[int, int]) -> int:
        # Only the approval gate of a staged run reads it: a dry run plans, never applies.
        # Counted once per workflow in a batch: a batch's runs are decided together.
        if run.mode == "dry_run":
            return 0
        if wf.id not in clean:
            clean[wf.id] = queries.count_clean_approved_runs(wf.id, wf.gate_tightened_at)
        return clean[wf.id]

    def _plan_context(
        self,
        run: ClaimedRun,
        wf: LoadedWorkflow,
        read: bool = True,
        folders: dict[str, str] | None = None,
    ) -> tuple[PlanContext, int, dict]:
        """What the run's steps plan with, the bytes read, and when each connection last
        changed (read with its settings). `read`: False leaves the input to the steps
        (a big input is read in batches); `folders`: output folders resolved so far."""
        path = Path(run.trigger_path) if run.trigger_path else None
        data, nbytes = read_input(path, wf.definition.input) if read else (None, 0)
        trigger = None
        if path is not None:
            trigger = TriggerFile(
                path,
                run.trigger_size or 0,
                int((run.trigger_mtime or 0) * 1e9),
                run.trigger_hash or "",
            )
        settings, kinds, changed = connection_state(wf.definition.connections, run.mode)
        prompts = prompt_access(self.db, run, wf, self._secrets.get)
        ctx = PlanContext(
            workflow=wf.definition,
            run_id=run.id,
            mode=run.mode,
            file=trigger,
            input=data,
            output_paths=output_paths(wf, run.mode),
            connections=settings,
            connection_kinds=kinds,
            resolved_folders={} if folders is None else folders,
            prompts=prompts,
        )
        return ctx, nbytes, changed

    def _plan(
        self,
        run: ClaimedRun,
        wf: LoadedWorkflow,
        item: InFlight,
        memo: BatchMemo,
        calls: list[dict] | None = None,
    ) -> Plan:
        ctx, nbytes, changed = self._plan_context(run, wf, folders=memo.folders)
        if calls is not None:
            ctx.prompt_calls = calls
        check_max_writes(wf.definition, expected_writes(wf.definition, ctx.input))
        planned = []
        for index, step in enumerate(wf.definition.steps):
            if item.cancelled.is_set():
                raise Cancelled(item.reason)
            made = len(ctx.prompt_calls)
            try:
                planned.extend(plan_step(step, ctx, index))
            finally:
                for call in ctx.prompt_calls[made:]:
                    call["step"] = index
        if item.cancelled.is_set():
            raise Cancelled(item.reason)
        check_max_writes(wf.definition, len(planned))  # a step may make several
        record_connection_state(planned, changed)
        clean_runs = self._clean_runs(run, wf, memo.clean)
        return Plan(
            run.id, wf, planned, nbytes, clean_runs, affected_records(planned), ctx.prompt_calls
        )

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
            if item.kind == "run":
                self.guard.stop(item)  # a plan rendering a runaway template ends now
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
