"""Where runs come from: watched folders (with reconciliation against the ledger),
interval schedules and manual runs. One intake thread records offers in batches."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from peewee import Database

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import RunStatus
from sophmate_desktop.domain.errors import BadInput, PolicyRefused
from sophmate_desktop.domain.names import ENGINE_ACTOR, AuditAction, EventKind
from sophmate_desktop.engine.handles import InFlight, InFlightTable
from sophmate_desktop.engine.later import Later
from sophmate_desktop.engine.queues import RunQueue
from sophmate_desktop.engine.scan import FileChanged, file_version, scan_folder
from sophmate_desktop.engine.watchers import WatchManager, WatchSpec
from sophmate_desktop.store import sql
from sophmate_desktop.store.audit import NewEvent
from sophmate_desktop.store.models import Category, Run, Workflow
from sophmate_desktop.store.notifications import record_notification
from sophmate_desktop.store.sql import queued_transaction
from sophmate_desktop.store.transitions import gate
from sophmate_desktop.store.transitions.intake import Offer, Recorded, record_batch
from sophmate_desktop.store.workflows import LoadedWorkflow, load_workflows

log = logging.getLogger(__name__)
_STOP = object()
# How often the watch supervisor looks for dead observers and vanished folders. Each
# look wakes a thread: at 1 s that alone was a quarter of the idle engine's CPU.
SUPERVISE_S = 2.0


def watch_spec(wf: LoadedWorkflow) -> WatchSpec | None:
    trig = wf.definition.trigger
    if trig is None or not trig.folder:
        return None
    return WatchSpec(
        key=wf.name,
        folder=Path(trig.folder).expanduser(),
        patterns=tuple(trig.patterns),
        ignore=tuple(trig.ignore),
        events=frozenset(trig.events),
        recursive=trig.recursive,
        settle_ms=trig.settle_ms,
        polling=trig.polling,
    )


class Triggers:
    """Offers to runs: watches, schedules, rescans and manual runs, recorded by one
    intake thread. It hands started runs to `runs` and tells the rest by `publish`."""

    def __init__(
        self,
        db: Database,
        *,
        host: str,
        inflight: InFlightTable,
        runs: RunQueue,
        publish: Callable[..., None],
        stopping: threading.Event,
        notify_idle: Callable[[], None],
        watch: bool,
        polling_interval_s: float,
        intake_batch: int = 500,
    ) -> None:
        self.db = db
        self._host = host
        self._inflight = inflight
        self._runs = runs
        self._publish = publish
        self._stopping = stopping
        self._notify_idle = notify_idle
        self._intake_batch = intake_batch
        self.watch = watch
        self.intake: queue.Queue = queue.Queue()
        self._specs: dict[str, WatchSpec] = {}
        self._schedules: dict[str, tuple[float, float]] = {}  # name -> (interval, next due)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._rescans: list[threading.Thread] = []
        self.later = Later("sophmate-later")
        self._watching = False
        self.manager = (
            WatchManager(
                self._on_file,
                self._on_problem,
                self._on_rescan,
                polling_interval_s=polling_interval_s,
                supervise_interval_s=SUPERVISE_S,
            )
            if watch
            else None
        )

    # Life cycle ----------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._intake_loop, name="sophmate-intake", daemon=True
        )
        self._thread.start()
        self.later.start()
        with self.db.connection_context():
            self.refresh()
        if self.manager is not None:
            self.manager.start()
            self._watching = True
            self._on_rescan(None)  # files that arrived while we were closed

    def stop(self, timeout: float = 10.0) -> None:
        self._watching = False
        if self.manager is not None:
            self.manager.stop(timeout)
        self.later.stop(timeout)
        self.intake.put(_STOP)
        if self._thread is not None:
            self._thread.join(timeout)
        for t in self._rescans:
            t.join(timeout)

    def idle(self) -> bool:
        """Nothing to record now or later: no offer queued, being recorded or delayed
        (a young file, a file that changed while it was hashed), no rescan running."""
        return (
            self.intake.unfinished_tasks == 0
            and self.later.pending() == 0
            and not any(t.is_alive() for t in self._rescans)
        )

    def refresh(self) -> None:
        """Follow enabled workflows: watches and schedules (called when anything changed)."""
        workflows = load_workflows(enabled_only=True)
        specs = {}
        schedules = {}
        for wf in workflows:
            spec = watch_spec(wf)
            if spec is not None:
                specs[wf.name] = spec
            trig = wf.definition.trigger
            if trig is not None and trig.interval_s:
                old = self._schedules.get(wf.name)
                due = (
                    old[1]
                    if old and old[0] == trig.interval_s
                    else time.monotonic() + trig.interval_s
                )
                schedules[wf.name] = (trig.interval_s, due)
        with self._lock:
            self._schedules = schedules
            changed = specs != self._specs
            fresh = [k for k, s in specs.items() if self._specs.get(k) != s]
            self._specs = specs
        if changed and self.manager is not None:
            self.manager.set_watches(specs.values())
            if self._watching:
                # files that arrived before this watch existed (a workflow just enabled)
                for key in fresh:
                    self._on_rescan(key)

    def tick(self) -> None:
        now = time.monotonic()
        due = []
        with self._lock:
            for name, (interval, at) in self._schedules.items():
                if at <= now:
                    due.append(name)
                    self._schedules[name] = (interval, now + interval)
        for name in due:
            self.submit(Offer(name, "schedule"))

    # Offers --------------------------------------------------------------

    def submit(self, offer: Offer) -> None:
        self.intake.put(offer)

    def _on_file(self, key: str, path: Path) -> None:
        self.intake.put((key, path))

    def _on_rescan(self, key: str | None) -> None:
        with self._lock:
            specs = [s for k, s in self._specs.items() if key is None or k == key]
        t = threading.Thread(
            target=self._rescan, args=(specs,), name="sophmate-rescan", daemon=True
        )
        self._rescans = [r for r in self._rescans if r.is_alive()] + [t]
        t.start()

    def _rescan(self, specs: list[WatchSpec]) -> None:
        for spec in specs:
            try:
                for path in scan_folder(spec):
                    self._offer_settled(spec, path)
            except FileNotFoundError:
                continue
            except Exception:
                log.exception("rescan of %s failed", spec.folder)

    def _offer_settled(self, spec: WatchSpec, path: Path) -> None:
        """A rescan bypasses the watcher's settling: a file changed less than settle_ms
        ago may still be being written, so look at it again once it could have settled."""
        if self._stopping.is_set():
            return
        try:
            mtime_ns = path.stat().st_mtime_ns
        except OSError:
            return
        young_ns = spec.settle_ms * 1_000_000 - (time.time_ns() - mtime_ns)
        if young_ns > 0:
            self.later.call_later(young_ns / 1e9 + 0.02, self._offer_settled, spec, path)
            return
        self.intake.put((spec.key, path))

    def _intake_loop(self) -> None:
        # Every item is marked done only after its batch is recorded (and its retries
        # scheduled), so idle() never sees an offer between the queue and the database.
        with self.db.connection_context():
            while True:
                item = self.intake.get()
                if item is _STOP:
                    self.intake.task_done()
                    return
                batch = [item]
                stop = False
                while len(batch) < self._intake_batch:
                    try:
                        more = self.intake.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        stop = True
                        break
                    batch.append(more)
                try:
                    self._record(batch)
                except Exception:
                    log.exception("recording %d trigger events failed", len(batch))
                finally:
                    for _ in range(len(batch) + stop):
                        self.intake.task_done()
                    self._notify_idle()
                if stop:
                    return

    def _record(self, batch: list) -> None:
        offers = []
        retry = []
        ids = sql.workflow_ids(self.db)
        candidates = []
        for item in batch:
            if isinstance(item, Offer):
                offers.append(item)
                continue
            key, path = item
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            if key in ids:
                candidates.append((item, ids[key], st))
        known = sql.known_versions(
            self.db, [(wf_id, str(item[1])) for item, wf_id, _ in candidates]
        )
        for item, wf_id, st in candidates:
            key, path = item
            if (wf_id, str(path), st.st_size, st.st_mtime_ns) in known:
                continue
            try:
                version = file_version(path)
            except FileChanged:
                retry.append(item)
                continue
            except (FileNotFoundError, PermissionError, IsADirectoryError):
                continue
            offers.append(Offer(key, "file", path, version.size, version.mtime_ns, version.sha256))
        created, started = self._record_offers(offers) if offers else ([], [])
        for item in retry:
            self.later.call_later(0.2, self.intake.put, item)
        self._dispatch(created, started)

    def _record_offers(self, offers: list[Offer]) -> tuple[list[Recorded], list[InFlight]]:
        """Record offers; runs that idle workers can take are started in the same
        transaction and registered in flight before it commits."""
        items: list[InFlight] = []

        def in_flight(started: list[Recorded]) -> None:
            for r in started:
                items.append(
                    self._inflight.add(InFlight("run", r.run_id, r.workflow, r.category, ()))
                )

        try:
            created = record_batch(
                self.db,
                offers,
                self._host,
                start=self._runs.free_workers(),
                on_started=in_flight,
            )
        except BaseException:
            for item in items:
                self._inflight.remove(item)
            raise
        return created, items

    def _dispatch(self, created: list[Recorded], started: list[InFlight]) -> None:
        """Runs just recorded: started ones straight to a worker, queued ones queued."""
        if not created:
            return
        for item in started:
            self._runs.hand_over(item.id, item)
        queued = [r.run_id for r in created if r.status == RunStatus.QUEUED.value]
        if queued:
            self._runs.enqueue(queued)
        self._publish(EventKind.RUNS_CREATED, runs=[r.run_id for r in created])
        for item in started:
            self._publish(EventKind.RUN_STARTED, run=item.id, workflow=item.workflow)

    def manual(self, workflow: str, file: Path | None, *, actor: str, mode: str | None) -> int:
        wf = Workflow.get_or_none(Workflow.name == workflow)
        if wf is None:
            raise BadInput(f"no workflow named {workflow!r}")
        effective = mode or wf.stage
        if effective != "dry_run" and not wf.enabled:
            raise PolicyRefused(
                f"{workflow} is not enabled: only a dry run is allowed "
                "(use --dry-run, or enable it first)"
            )
        offer = Offer(workflow, "manual", actor=actor, mode=mode)
        if file is not None:
            path = Path(file).expanduser().resolve()
            if not path.is_file():
                raise BadInput(f"--file: {path} is not a file")
            v = file_version(path)
            offer = Offer(workflow, "manual", path, v.size, v.mtime_ns, v.sha256, actor, mode)
        created, started = self._record_offers([offer])
        self._dispatch(created, started)
        return created[0].run_id

    # Problems and failure notices ------------------------------------------

    def _on_problem(self, key: str, message: str) -> None:
        with self.db.connection_context(), queued_transaction(self.db):
            wf = Workflow.get_or_none(Workflow.name == key)
            if wf is None:
                return
            now = utcnow()
            # A run that failed before it began: created queued, then failed through
            # the gate like any run, so its trail has one event (the problem's).
            run = Run.create(
                workflow=wf.id,
                revision=wf.revision,
                trigger_kind="watch",
                mode=wf.stage,
                status=RunStatus.QUEUED.value,
                queued_at=now,
                host=self._host,
            )
            category = Category.get_by_id(wf.category_id).name
            event = NewEvent(
                actor=ENGINE_ACTOR,
                action=AuditAction.WATCH_PROBLEM,
                subject=key,
                category=category,
                workflow=key,
                run=run.id,
                reason=message,
            )
            gate.move_run(self.db, run.id, RunStatus.QUEUED, RunStatus.RUNNING, started_at=now)
            gate.move_run(
                self.db,
                run.id,
                RunStatus.RUNNING,
                RunStatus.FAILED,
                events=event,
                finished_at=now,
                error=message,
            )
            record_notification(
                "error",
                "watch_problem",
                f"{key}: {message}",
                "Files for this workflow are not being watched. Fix the "
                "folder; the engine picks it up again by itself.",
                workflow=key,
                run=run.id,
                group_key=f"watch:{key}",
            )
        self._publish(EventKind.NOTIFICATION, workflow=key)
