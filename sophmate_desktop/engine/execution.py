"""Executing one run (read input, plan every step, record the writes) and applying
one approved write. Cooperative checkpoints let a kill switch stop both."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from sophmate_desktop.domain import policy
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import BUILTIN_ACTION_EFFECTS
from sophmate_desktop.domain.templates import mask_values
from sophmate_desktop.engine import records
from sophmate_desktop.engine.actions import plan_step
from sophmate_desktop.engine.actions.base import ApplyContext, Cancelled, PlanContext, TriggerFile
from sophmate_desktop.engine.actions.registry import get_action, plugin_versions
from sophmate_desktop.engine.handles import InFlight
from sophmate_desktop.engine.inputs import read_input
from sophmate_desktop.engine.outcomes import (
    auto_pause_workflow,
    begin_apply,
    cancel_run,
    fail_run,
    finish_apply,
)
from sophmate_desktop.engine.secrets import SecretStore
from sophmate_desktop.store import queries
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import Category, Run, Workflow

if TYPE_CHECKING:
    from sophmate_desktop.engine.service import Engine

log = logging.getLogger(__name__)


def mask(text: str) -> str:
    return mask_values(text, SecretStore.values_seen())


def output_paths(wf: records.LoadedWorkflow, mode: str) -> tuple[Path, ...]:
    out = wf.definition.output
    if out is None:
        return ()
    raw = out.staging_paths if mode == "staging" else out.paths
    return tuple(Path(p).expanduser() for p in raw)


class PluginChanged(Exception):
    pass


class Executor:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.db = engine.db

    # Runs ------------------------------------------------------------------

    def execute_run(self, run_id: int) -> None:
        if not records.claim_run(self.db, run_id, self.engine.host):
            return
        run = Run.get_by_id(run_id)
        wf_model = Workflow.get_by_id(run.workflow_id)
        wf = records.load_workflow(wf_model, Category.get_by_id(wf_model.category_id).name)
        item = self.engine.inflight.add(
            InFlight("run", run_id, wf.name, wf.category, tuple(wf.definition.effect_kinds))
        )
        self.engine.publish("run.started", run=run_id, workflow=wf.name)
        try:
            self._check_plugins(wf, run_id)
            self._plan(run, wf, item)
        except Cancelled:
            cancel_run(self.db, run_id, item.reason or "stopped by a kill switch")
            self.engine.publish("run.cancelled", run=run_id, workflow=wf.name)
        except PluginChanged:
            pass
        except Exception as exc:
            error = mask(str(exc) or type(exc).__name__)
            diagnostics = {
                "traceback": mask(traceback.format_exc())[-8000:],
                "exception": type(exc).__name__,
            }
            outcome = fail_run(self.db, run_id, error, diagnostics)
            if outcome.final:
                self.engine.publish(
                    "run.failed",
                    run=run_id,
                    workflow=wf.name,
                    error=error,
                    notification=outcome.notified,
                    paused=outcome.paused,
                )
                self.engine.triggers.deliver_failure(wf, run_id, error)
        finally:
            self.engine.inflight.remove(item)

    def _check_plugins(self, wf: records.LoadedWorkflow, run_id: int) -> None:
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
        with write_transaction(self.db):
            fields = {"plugin_versions": now_versions}
            pause = changed and policy.pauses_on_plugin_update(wf.definition.pause)
            if changed:
                fields.update(last_provider_change_at=utcnow(), gate_tightened_at=utcnow())
            Workflow.update(**fields).where(Workflow.id == wf.id).execute()
            if pause:
                Run.update(status="held").where(Run.id == run_id).execute()
                auto_pause_workflow(
                    wf.id,
                    wf.name,
                    wf.category,
                    wf.definition.owner,
                    reason="plug-in updated: "
                    + ", ".join(f"{k} {a} -> {b}" for k, (a, b) in changed.items()),
                    cause="plugin_update",
                    run_id=run_id,
                    details={"versions": now_versions},
                )
        if pause:
            self.engine.publish("workflow.auto_paused", workflow=wf.name)
            raise PluginChanged(wf.name)

    def _plan(self, run: Run, wf: records.LoadedWorkflow, item: InFlight) -> None:
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
        settings, kinds = records.connection_settings(wf.definition.connections, run.mode)
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
        planned = []
        for index, step in enumerate(wf.definition.steps):
            if item.cancelled.is_set():
                raise Cancelled(item.reason)
            planned.extend(plan_step(step, ctx, index))
        if item.cancelled.is_set():
            raise Cancelled(item.reason)
        clean = queries.count_clean_approved_runs(wf.id, wf.gate_tightened_at)
        status, auto = records.store_plan(self.db, run.id, wf, planned, nbytes, clean)
        self.engine.publish(f"run.{status}", run=run.id, workflow=wf.name)
        if auto:
            self.engine.enqueue_writes(auto)

    # Writes ----------------------------------------------------------------

    def apply_write(self, write_id: int) -> None:
        write, why = begin_apply(self.db, write_id, self.engine.host)
        if write is None:
            log.debug("write %s not applied now: %s", write_id, why)
            return
        wf_name = Workflow.get_by_id(write.workflow_id).name
        item = self.engine.inflight.add(
            InFlight("write", write_id, wf_name, write.category, tuple(records.effects_of(write)))
        )
        run = Run.get_by_id(write.run_id)
        try:
            action = get_action(write.kind)
            conn_names = (
                [write.payload.get("connection")] if write.payload.get("connection") else []
            )
            settings, _ = records.connection_settings(conn_names, run.mode)
            ctx = ApplyContext(
                idempotency_key=write.idempotency_key,
                secret=self.engine.secrets.get,
                connections=settings,
                cancelled=item.cancelled,
                register_process=item.add_process,
            )
            ctx.check()
            result = action.apply(write.payload, ctx)
        except Cancelled as exc:
            status = finish_apply(self.db, write_id, error=mask(f"killed: {item.reason or exc}"))
        except Exception as exc:
            status = finish_apply(self.db, write_id, error=mask(str(exc) or type(exc).__name__))
        else:
            status = finish_apply(
                self.db,
                write_id,
                undo=result.undo,
                bytes_written=result.bytes_written,
                cost=result.cost,
            )
        finally:
            self.engine.inflight.remove(item)
        self.engine.publish("write.finished", write=write_id, run=write.run_id, status=status)
        if status == "failed":
            self.engine.publish("run.failed", run=write.run_id, workflow=wf_name)
