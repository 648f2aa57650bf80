"""The engine: intake of triggers, workers that plan runs, an applier for approved
writes, and a monitor that enforces kill switches and follows the database.

Plain threads, no Qt. Each thread owns its own database connection. The database
is the source of truth: a pause made by another process reaches the monitor on its
next tick (`tick_s` while anything is queued or in flight, else `idle_tick_s`); one
made here wakes it at once; an idle SQLite engine is woken by other processes' commits
(engine/monitor_wait.py).
The intake starts a run a waiting worker can take in the transaction that records it;
the writes of commands a pause killed end in one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from peewee import Database

from sophmate_desktop.domain import policy
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import WriteStatus
from sophmate_desktop.domain.events import Event, Listeners
from sophmate_desktop.domain.names import EventKind
from sophmate_desktop.engine.binding import EngineIdentity, engine_lease
from sophmate_desktop.engine.execution import Executor
from sophmate_desktop.engine.handles import SHUTDOWN_REASON, InFlight, InFlightTable
from sophmate_desktop.engine.lifeline import Lifeline
from sophmate_desktop.engine.monitor_wait import MonitorWait
from sophmate_desktop.engine.notice_dispatch import NoticeDispatcher
from sophmate_desktop.engine.plan_guard import PLAN_TIMEOUT_SETTING, bind_thread
from sophmate_desktop.engine.preview import (
    PreviewFailed,
    PreviewInput,
    file_sha256_or_none,
    plan_preview,
)
from sophmate_desktop.engine.prompt_runs import blocks_by_effect
from sophmate_desktop.engine.queues import STOP, RunQueue, WriteQueue, target_key
from sophmate_desktop.engine.recording import DB_FAULTS, DatabaseHealth, OutcomeRecorder
from sophmate_desktop.engine.sweep import Sweep
from sophmate_desktop.engine.takeover import take_over
from sophmate_desktop.engine.triggers import Triggers
from sophmate_desktop.engine.waiting import EngineWaiting
from sophmate_desktop.secrets import SecretStore
from sophmate_desktop.secrets import audit_key as secret_audit_key
from sophmate_desktop.store import audit_key, backups, checkpoints, instances, sql
from sophmate_desktop.store.models import Setting, Workflow, Write
from sophmate_desktop.store.transitions.intake import Offer, next_queued, next_retry_in
from sophmate_desktop.store.transitions.recovery import requeue_stopped_run
from sophmate_desktop.store.undo_blobs import prune_for
from sophmate_desktop.store.workflows import effects_of, switch_states

__all__ = ["Engine", "Offer", "PreviewFailed", "PreviewInput", "file_sha256_or_none"]
__all__ += ["plan_preview"]

log = logging.getLogger(__name__)

IDLE_TICK_S = 0.5  # the monitor's tick while nothing is queued or in flight
SAFETY_FULL_S = 30.0  # a full look even when SQLite reports no commit (a safety net)
# Events after which a notice may wait in the outbox (the dispatcher also polls).
NOTICE_EVENTS = frozenset(
    {
        EventKind.RUN_FAILED,
        EventKind.WORKFLOW_AUTO_PAUSED,
        EventKind.WRITE_FINISHED,
        EventKind.NOTIFICATION,
        EventKind.SWITCHES_CHANGED,
    }
)
# Runs a worker takes at once when they have piled up: claimed in one transaction and
# recorded in one more (a run waits for at most this many plans before its commit, ~0.5 ms
# each). bench.burst, 10,000 dry runs: 32 -> 1,765/s, 64 -> 1,980/s, 128 -> 2,095/s,
# 256 -> 2,230/s, 512 -> 2,289/s; fewer transactions and turns at the write lock.
WORKER_BATCH = 256
STOP_PLANS_S = 2.0  # at shutdown, plans still running after this are requeued from stop()


class Engine(EngineWaiting):
    def __init__(
        self,
        db: Database,
        *,
        secrets: SecretStore | None = None,
        workers: int = 2,
        tick_s: float = 0.25,
        idle_tick_s: float | None = None,
        watch: bool = True,
        polling_interval_s: float = 1.0,
        intake_batch: int = 500,
        appliers: int = 2,
        apply_batch: int = 64,
        clock: Callable[[], dt.datetime] | None = None,  # schedules' clock (naive UTC)
        identity: EngineIdentity | None = None,  # its name and pools (engine/binding.py)
        lease_s: float | None = None,  # silent this long: dead (default $SOPHMATE_ENGINE_LEASE_S)
    ) -> None:
        self.db = db
        self.identity = identity or EngineIdentity.of()
        self.lease_s = engine_lease(lease_s)
        # This start of the engine: claims name it (name:pid#id); see store/instances.py.
        self.instance_id = instances.new_instance_id()
        self.host = instances.claim_token(self.instance_id, self.identity.name)
        self.lifeline = Lifeline(db, self.instance_id)
        self._sweep = Sweep(
            db,
            instance_id=self.instance_id,
            host=self.host,
            identity=self.identity,
            lease_s=self.lease_s,
            lifeline=self.lifeline,
            read_settings=self._read_settings,
            took_over=self.wake,  # the requeued runs and resumed writes: look now
        )
        self.secrets = secrets or SecretStore()
        store = self.secrets
        audit_key.use_key_loader(
            db, lambda: secret_audit_key(store, create=checkpoints.first_mac(db) is None)
        )
        self._checkpoints = checkpoints.Checkpointer.for_db(db)
        self.events = Listeners()
        self.tick_s = tick_s
        self.idle_tick_s = max(tick_s, IDLE_TICK_S) if idle_tick_s is None else idle_tick_s
        self.inflight = InFlightTable(on_process=self.lifeline.started)
        self.runs = RunQueue()
        self._stop = threading.Event()
        self._waits = MonitorWait(
            db,
            busy=self._busy,
            tick_s=tick_s,
            idle_tick_s=self.idle_tick_s,
            sqlite_path=getattr(db, "sqlite_path", None),
        )
        self._threads: list[threading.Thread] = []
        self._workers = max(1, workers)
        # Appliers take approved writes in batches, one lane each: writes to one target
        # (file path, HTTP URL) stay in order on one lane, other targets go in parallel,
        # and writes without a shared target (commands) go to any free applier. Each
        # write is still claimed exactly once (approved -> applying in begin_applies).
        self._appliers = max(1, appliers)
        self.writes = WriteQueue(self._appliers, apply_batch)
        self.health = DatabaseHealth(db, self.publish)
        self.recorder = OutcomeRecorder(
            db, health=self.health, publish=self.publish, stopping=self._stop, claimer=self.host
        )
        self._fingerprint: object = None
        self._idle = threading.Condition()
        self.notices = NoticeDispatcher(db, self.secrets.get)
        self.executor = Executor(
            db,
            host=self.host,
            inflight=self.inflight,
            secrets=self.secrets,
            publish=self.publish,
            enqueue_writes=self._enqueue_writes,
            notify_failure=self.notices.wake,
            stopping=self._stop,
            recorder=self.recorder,
        )
        self.triggers = Triggers(
            db,
            host=self.host,
            inflight=self.inflight,
            runs=self.runs,
            publish=self.publish,
            stopping=self._stop,
            notify_idle=self._notify_idle,
            watch=watch,
            polling_interval_s=polling_interval_s,
            intake_batch=intake_batch,
            clock=clock,
            serves=self.identity.serves,
        )
        self.started = False

    # Life cycle ----------------------------------------------------------

    def start(self) -> None:
        if self.started:
            return
        self.started = True
        with self.db.connection_context():
            # recovery appends events (write.resumed, ...): with the key, not unsigned
            audit_key.prime(self.db)
            counts = self._recover()
            replayed = counts.pop("outcomes_replayed")
            pruned = prune_for(self.db)
        if pruned:
            log.info("removed %d undo copies past their retention", pruned)
        if replayed:
            log.info("recorded %d outcomes a stopped engine had journaled", replayed)
        if any(counts.values()):
            log.info("recovered after a crash: %s", counts)
        self._waits.start()
        self._spawn("sophmate-monitor", self._monitor_loop)
        if getattr(self.db, "sqlite_path", None) and not getattr(self.db, "read_only", False):
            path, every = self.db.sqlite_path, backups.schedule_settings
            self._spawn("sophmate-backups", lambda: backups.run_schedule(path, self._stop, every))
        for i in range(self._workers):
            self._spawn(f"sophmate-worker-{i}", self._worker_loop)
        for i in range(self._appliers):
            self._spawn(f"sophmate-applier-{i}", lambda lane=i: self._applier_loop(lane))
        self.triggers.start()
        self.notices.start()
        self.wake()

    def _recover(self) -> dict[str, int]:
        """Take over what dead engine instances left: their commands' process groups
        killed, their runs requeued, their writes resumed or interrupted."""
        instances.register(self.db, self.instance_id, *self.identity.labels(), self.lease_s)
        self._read_settings()
        serves = self.identity.serves
        return take_over(self.db, self.instance_id, self.host, prune=True, serves=serves)

    def _read_settings(self) -> None:
        row = Setting.get_or_none(Setting.key == PLAN_TIMEOUT_SETTING)
        if row is not None and isinstance(row.value, int | float) and row.value > 0:
            self.executor.plan_timeout_s = float(row.value)

    def stop(self, timeout: float = 10.0) -> None:
        if not self.started:
            return
        self._stop.set()
        self._waits.ask()
        # What is in flight is not failed by this: a write whose effect is unknown waits,
        # interrupted, for a person; a run being planned goes back to the queue (its
        # rendering is stopped from here: a runaway template does not hold the exit).
        for item in self.inflight.snapshot():
            item.cancel(SHUTDOWN_REASON, shutdown=True)
            if item.kind == "run":
                self.executor.guard.stop(item)
        self.triggers.stop(timeout)
        self.runs.stop(self._workers)
        self.writes.stop(self._appliers)
        deadline = time.monotonic() + timeout
        for t in self._threads:
            if t.name.startswith("sophmate-worker"):
                t.join(min(STOP_PLANS_S, max(0.0, deadline - time.monotonic())))
        self._requeue_stuck_plans()
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self.executor.close_io()
        self.notices.stop(timeout)
        self._waits.close()
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            log.error("engine threads still alive after stop: %s", alive)
        else:
            self._mark_stopped()
        self._threads.clear()
        self.started = False

    def _requeue_stuck_plans(self) -> None:
        """Plans still running (stuck in C code, or in the database) go back to the
        queue from here: shutdown never leaves a run `running`."""
        stuck = [i for i in self.inflight.snapshot() if i.kind == "run"]
        if not stuck:
            return
        with self.db.connection_context():
            for item in stuck:
                try:
                    if requeue_stopped_run(self.db, item.id):
                        log.warning("run %s requeued at shutdown while still planning", item.id)
                except Exception:
                    log.exception("could not requeue run %s at shutdown", item.id)

    def _mark_stopped(self) -> None:
        try:
            with self.db.connection_context():
                instances.mark_stopped(self.db, self.instance_id)
        except Exception:
            log.exception("could not record that the engine stopped")

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        def body() -> None:
            bind_thread(self.executor.guard)  # plans on this thread can be stopped
            with self.db.connection_context():
                try:
                    target()
                except Exception:
                    log.exception("%s crashed", name)

        t = threading.Thread(target=body, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def wake(self, _event: Event | None = None) -> None:
        """Re-read switches and queues now (a pause in this process, a new approval)."""
        self._waits.ask()
        self.notices.wake()  # a console call may have recorded a notice or raised a flag

    def publish(self, kind: EventKind, **data) -> None:
        self.events.publish(Event(kind, data))
        if kind in NOTICE_EVENTS:
            self.notices.wake()

    # Starting runs -------------------------------------------------------

    def offer(self, offer: Offer) -> None:
        self.triggers.submit(offer)

    def run_now(
        self,
        workflow: str,
        file: Path | None = None,
        *,
        actor: str = "engine",
        mode: str | None = None,
    ) -> int:
        """A manual run: recorded at once (queued, or held while paused); returns its id."""
        return self.triggers.manual(workflow, file, actor=actor, mode=mode)

    def in_flight(self) -> dict[str, int]:
        """What this engine is doing now: {"run": runs being planned, "write": writes
        being applied}. Quitting the window asks first when either is not 0."""
        items = self.inflight.snapshot()
        counts = {kind: sum(1 for i in items if i.kind == kind) for kind in ("run", "write")}
        counts["write"] += len(self.recorder.pending())  # applied, not recorded yet
        return counts

    def free_workers(self) -> int:
        """Workers waiting for a run right now, less the runs already queued for them."""
        return self.runs.free_workers()

    # Threads -------------------------------------------------------------

    def _worker_loop(self) -> None:
        while True:
            taken = self.runs.take_batch(WORKER_BATCH)
            entries = [e if isinstance(e, tuple) else (e, None) for e in taken if e is not STOP]
            try:
                if entries:
                    self.executor.execute_runs(entries)
            except Exception:
                log.exception("runs %s: unexpected engine error", [r for r, _ in entries])
            finally:
                for run_id, _ in entries:
                    self.runs.done(run_id)
            self._notify_idle()
            if taken[-1] is STOP:
                return

    def _applier_loop(self, lane: int) -> None:
        while True:
            batch = self.writes.take(lane)
            if batch is STOP:
                return
            try:
                # claims nothing while the database refuses commits (probed meanwhile)
                if self.health.wait_writable(self._stop):
                    self.executor.apply_batch(batch)
            except DB_FAULTS as exc:  # the claim could not commit: they stay approved
                self.health.failed(exc)
            except Exception:
                log.exception("writes %s: unexpected engine error", batch)
            finally:
                self.writes.done(batch)
            self._notify_idle()

    def _enqueue_writes(self, write_ids: Iterable[int]) -> None:
        """Writes a run's plan approved itself: queued on the lane of their target."""
        ids = list(write_ids)
        rows = Write.select(Write.id, Write.kind, Write.effect, Write.target).where(
            Write.id.in_(ids)
        )
        self.writes.enqueue((w.id, target_key(w.kind, w.effect, w.target)) for w in rows)

    def _monitor_loop(self) -> None:
        last_version: int | None = None
        last_full = 0.0
        retry_due: float | None = None
        woken = True
        audit_key.prime(self.db)
        while not self._stop.is_set():
            self.executor.guard.enforce_deadlines()
            self._sweep.tick()  # the heartbeat, and dead engines' work (engine/sweep.py)
            try:
                version = sql.data_version(self.db)
                now = time.monotonic()
                # An idle engine only asks SQLite whether anyone committed; a real look
                # happens when something changed, when woken, when a retry's backoff
                # ends, and now and then as a safety net.
                if (
                    woken
                    or version is None
                    or version != last_version
                    or (retry_due is not None and now >= retry_due)
                    or now - last_full >= SAFETY_FULL_S
                ):
                    last_version = version
                    last_full = now
                    # Ask for the next backoff end BEFORE picking up work: asked after,
                    # a run falling due in between would be neither picked nor waited for.
                    retry_due = next_retry_in(self.db)
                    if retry_due is not None:
                        retry_due += now
                    self._pick_up_work(self.check_switches())
                self.triggers.tick()
                self._checkpoints.monitor_tick()  # the engine's own commits, every 2 s
            except Exception:
                log.exception("monitor tick failed")
                if retry_due is not None:  # look again a tick later, not at once
                    retry_due = max(retry_due, time.monotonic() + self.tick_s)
            woken = self._waits.wait(retry_due, last_version)

    def _busy(self) -> bool:
        return bool(
            len(self.inflight)
            or self.runs.busy()
            or self.writes.busy()
            or self.recorder.pending()
            or not self.triggers.idle()
        )

    def check_switches(self) -> list[policy.SwitchState]:
        """Cancel what a paused switch or workflow covers; follow workflow changes."""
        switches = switch_states(self.db)
        workflows = tuple(
            Workflow.select(
                Workflow.id,
                Workflow.name,
                Workflow.revision,
                Workflow.enabled,
                Workflow.paused,
                Workflow.paused_reason,
                Workflow.stage,
            )
            .order_by(Workflow.id)
            .tuples()
        )
        paused_workflows = {
            name: reason for _, name, _, _, paused, reason, _ in workflows if paused
        }
        stopping: list[tuple[InFlight, str]] = []
        for item in self.inflight.snapshot():
            # A run's only effect is `ai` while it plans prompt steps (engine/prompt_runs.py).
            sw = policy.blocking_switch(switches, category=item.category, effects=item.effects)
            if sw is not None:
                item.hold = item.kind == "run" and blocks_by_effect(sw)
                stopping.append((item, policy.switch_refusal_text(sw)))
            elif item.workflow in paused_workflows:  # its runs and its writes alike
                reason = f"workflow {item.workflow} is paused: {paused_workflows[item.workflow]}"
                stopping.append((item, reason))
        if stopping:
            self.executor.stop_items(stopping)
        fingerprint = (tuple(sorted((s.scope, s.name) for s in switches)), workflows)
        if fingerprint != self._fingerprint:
            changed_switches = self._fingerprint is None or fingerprint[0] != self._fingerprint[0]
            self._fingerprint = fingerprint
            self.triggers.refresh()
            if changed_switches:
                self.publish(EventKind.SWITCHES_CHANGED)
        return switches

    def _pick_up_work(self, switches: list[policy.SwitchState]) -> None:
        """Runs queued and writes approved by anyone (another process, a replay, a retry),
        once any backoff of theirs has ended."""
        busy_runs = self.inflight.ids("run")
        elsewhere = self.triggers.served_elsewhere()  # workflows other engines run
        runs = [r for r in next_queued(self.db, skip=elsewhere) if r not in busy_runs]
        if runs:
            self.runs.enqueue(runs)
        busy = self.inflight.ids("write")
        approved = (
            Write.select(
                Write.id,
                Write.category,
                Write.kind,
                Write.effect,
                Write.target,
                Write.customer_facing,
            )
            .where(
                Write.status == WriteStatus.APPROVED.value,
                Write.next_attempt_at.is_null() | (Write.next_attempt_at <= utcnow()),
                sql.workflow_not_in(Write.workflow, elsewhere),
            )
            .order_by(Write.id)
            .limit(1000)
        )
        ready = []
        for w in approved:
            if w.id in busy:
                continue
            if policy.blocking_switch(switches, category=w.category, effects=effects_of(w)) is None:
                ready.append((w.id, target_key(w.kind, w.effect, w.target)))
        if ready:
            self.writes.enqueue(ready)

    # Waiting (tests, the CLI's `workflow run`, the demo) ----------------------

    def _notify_idle(self) -> None:
        with self._idle:
            self._idle.notify_all()
