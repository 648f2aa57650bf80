"""Where runs come from: watched folders (with reconciliation against the ledger),
time triggers (engine/schedules.py) and manual runs. One intake thread records offers
in batches."""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from peewee import Database, OperationalError

from sophmate_desktop.domain.enums import RunStatus
from sophmate_desktop.domain.errors import BadInput, PolicyRefused
from sophmate_desktop.domain.names import EventKind
from sophmate_desktop.engine.handles import InFlight, InFlightTable
from sophmate_desktop.engine.later import Later
from sophmate_desktop.engine.queues import RunQueue
from sophmate_desktop.engine.scan import (
    FileChanged,
    LinkCheck,
    StampMemo,
    escaped_path,
    file_version,
    refusal,
    undecodable,
)
from sophmate_desktop.engine.schedules import Scheduler
from sophmate_desktop.engine.watchers import WatchManager, WatchSpec
from sophmate_desktop.store import sql
from sophmate_desktop.store.models import Workflow
from sophmate_desktop.store.transitions.intake import Offer, Recorded, record_batch
from sophmate_desktop.store.transitions.refusals import record_watch_problem
from sophmate_desktop.store.workflows import LoadedWorkflow, load_workflows

log = logging.getLogger(__name__)
_STOP = object()
# How often the watch supervisor looks for dead observers and vanished folders. Each
# look wakes a thread: at 1 s that alone was a quarter of the idle engine's CPU.
SUPERVISE_S = 2.0
SAFETY_SCAN_S = 300  # a workflow's trigger.safety_scan_s overrides it


def _transient(exc: BaseException) -> bool:
    """A database that is busy now (locked, a serialisation conflict): try again."""
    text = str(exc).lower()
    return isinstance(exc, OperationalError) and any(
        m in text for m in ("locked", "busy", "could not serialize", "deadlock")
    )


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
        # only inotify reports a writer's close; elsewhere the settle timer applies
        settle_closed=trig.settle == "closed" and sys.platform.startswith("linux"),
        follow_links_outside=bool(trig.follow_links_outside),
        safety_scan_s=float(SAFETY_SCAN_S if trig.safety_scan_s is None else trig.safety_scan_s),
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
        clock: Callable[[], datetime] | None = None,
        serves: Callable[[str | None], bool] = lambda runs_on: True,
    ) -> None:
        self.db = db
        # A workflow whose `runs_on` names another engine or pool: not watched here, and
        # its queued runs and approved writes are left to that engine (binding.py).
        self._serves = serves
        self._elsewhere: frozenset[int] = frozenset()
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
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._rescans: list[threading.Thread] = []
        self.later = Later("sophmate-later")
        self.scheduler = Scheduler(db, submit=self.submit, stopping=stopping, serves=serves)
        if clock is not None:
            self.scheduler.now = clock
        self._memo = StampMemo()
        self._safety_due: dict[str, float] = {}
        self.safety_scans = 0  # started so far (for tests and the fault table)
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
        self.scheduler.start()
        if self.manager is not None:
            self.manager.start()
            self._watching = True
            self._on_rescan(None)  # files that arrived while we were closed

    def stop(self, timeout: float = 10.0) -> None:
        self._watching = False
        if self.manager is not None:
            self.manager.stop(timeout)
        self.later.stop(timeout)
        self.scheduler.stop(timeout)
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
        self.scheduler.refresh()
        specs = {}
        elsewhere = set()
        for wf in load_workflows(enabled_only=False):
            if not self._serves(wf.definition.runs_on):
                elsewhere.add(wf.id)
                continue
            spec = watch_spec(wf) if wf.enabled else None
            if spec is not None:
                specs[wf.name] = spec
        self._elsewhere = frozenset(elsewhere)
        with self._lock:
            changed = specs != self._specs
            fresh = [k for k, s in specs.items() if self._specs.get(k) != s]
            self._specs = specs
            for key in fresh:
                self._safety_due.pop(key, None)
        self._memo.forget(fresh)
        if changed and self.manager is not None:
            self.manager.set_watches(specs.values())
            if self._watching:
                # files that arrived before this watch existed (a workflow just enabled)
                for key in fresh:
                    self._on_rescan(key)

    def tick(self) -> None:
        self._safety_scans()

    def served_elsewhere(self) -> frozenset[int]:
        """Ids of the workflows another engine or pool runs (their `runs_on`)."""
        return self._elsewhere

    # Offers --------------------------------------------------------------

    def submit(self, offer: Offer) -> None:
        self.intake.put(offer)

    def _on_file(self, key: str, path: Path) -> None:
        self.intake.put((key, path))

    def _on_rescan(self, key: str | None, *, only_changed: bool = False) -> None:
        """A reconciliation scan (every file against the ledger), or with only_changed
        the safety scan (files new or changed since the last scan, stat only)."""
        with self._lock:
            specs = [s for k, s in self._specs.items() if key is None or k == key]
        t = threading.Thread(
            target=self._rescan, args=(specs, only_changed), name="sophmate-rescan", daemon=True
        )
        self._rescans = [r for r in self._rescans if r.is_alive()] + [t]
        t.start()

    def _rescan(self, specs: list[WatchSpec], only_changed: bool = False) -> None:
        for spec in specs:
            try:
                for path, (_, mtime_ns) in self._memo.scan(spec, only_changed=only_changed):
                    self._offer_settled(spec, path, mtime_ns)
            except FileNotFoundError:
                continue
            except Exception:
                log.exception("rescan of %s failed", spec.folder)

    def _safety_scans(self) -> None:
        """Start the periodic safety scan of each watch whose interval has passed."""
        now = time.monotonic()
        due = []
        with self._lock:
            for key, spec in self._specs.items():
                if spec.safety_scan_s <= 0:
                    continue
                at = self._safety_due.setdefault(key, now + spec.safety_scan_s)
                if at <= now:
                    self._safety_due[key] = now + spec.safety_scan_s
                    due.append(key)
        if self._watching and not any(t.is_alive() for t in self._rescans):
            for key in due:
                self.safety_scans += 1
                self._on_rescan(key, only_changed=True)

    def _offer_settled(self, spec: WatchSpec, path: Path, mtime_ns: int | None = None) -> None:
        """A rescan bypasses the watcher's settling: a file changed less than settle_ms
        ago may still be being written, so look at it again once it could have settled
        (with `settle: closed`, a file the watcher waits to see closed is left to it)."""
        if self._stopping.is_set():
            return
        if self.manager is not None and self.manager.settling(spec.key, str(path)):
            return
        try:
            mtime_ns = path.stat().st_mtime_ns if mtime_ns is None else mtime_ns
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
                    self._record_isolated(batch)
                except Exception:
                    log.exception("recording %d trigger events failed", len(batch))
                finally:
                    for _ in range(len(batch) + stop):
                        self.intake.task_done()
                    self._notify_idle()
                if stop:
                    return

    def _record_isolated(self, batch: list) -> None:
        """Record a batch; when that fails, one offer cannot take the others with it:
        a busy database is waited for (retried later, never dropped), anything else
        splits the batch down to the one offer that fails, which is reported."""
        try:
            self._record(batch)
        except Exception as exc:
            if _transient(exc):
                log.warning("database busy recording %d offers; retry in 0.5 s", len(batch))
                for item in batch:
                    self.later.call_later(0.5, self.intake.put, item)
                return
            if len(batch) == 1:
                self._report_unrecordable(batch[0], exc)
                return
            log.warning("recording %d offers failed (%s); one by one", len(batch), exc)
            for item in batch:
                self._record_isolated([item])

    def _report_unrecordable(self, item: object, exc: Exception) -> None:
        log.error("cannot record %r: %s", item, exc, exc_info=exc)
        if isinstance(item, Offer) or self._stopping.is_set():
            return
        key, path = item  # type: ignore[misc]
        reason = f"{escaped_path(path)} could not be recorded: {exc}"
        try:
            st = path.stat()
            shown = Path(escaped_path(path))
            offer = Offer(key, "file", shown, st.st_size, st.st_mtime_ns, refused=reason)
            self._record_offers([offer])
        except Exception:
            log.exception("reporting the unrecordable file %s failed", escaped_path(path))

    def _vet(self, key: str, path: Path, st: os.stat_result, links: LinkCheck) -> Offer | None:
        """A refused offer for a file that must not run, or None for one that may."""
        reason = refusal(self._specs.get(key), path, links)
        if reason is None:
            return None
        shown = Path(escaped_path(path))
        return Offer(key, "file", shown, st.st_size, st.st_mtime_ns, refused=reason)

    def _candidates(self, batch: list, offers: list[Offer]) -> list[tuple]:
        """(item, workflow id, stat, refused offer or None) of the batch's files; its
        other offers (schedules) go to `offers`."""
        ids = sql.workflow_ids(self.db)
        candidates = []
        links = LinkCheck()
        for item in batch:
            if isinstance(item, Offer):
                offers.append(item)
                continue
            key, path = item
            try:
                st = path.stat()
            except (FileNotFoundError, NotADirectoryError):
                continue
            if key in ids:
                candidates.append((item, ids[key], st, self._vet(key, path, st, links)))
        return candidates

    def _record(self, batch: list) -> None:
        offers: list[Offer] = []
        retry = []
        candidates = self._candidates(batch, offers)
        known = sql.known_versions(
            self.db,
            [(wf_id, str(v.path if v else item[1])) for item, wf_id, _, v in candidates],
        )
        for item, wf_id, st, refused in candidates:
            key, path = item
            shown = str(refused.path) if refused else str(path)
            if (wf_id, shown, st.st_size, st.st_mtime_ns) in known:
                continue
            if refused is not None:
                offers.append(refused)
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

    def _record_offers(
        self, offers: list[Offer], start: bool = True
    ) -> tuple[list[Recorded], list[InFlight]]:
        """Record offers; runs that idle workers can take are started in the same
        transaction and registered in flight before it commits (`start`: False leaves
        them queued, for another engine)."""
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
                start=self._runs.free_workers() if start else 0,
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
            if undecodable(path):
                raise BadInput(
                    f"--file: the name {escaped_path(path)} is not valid UTF-8 (shown with "
                    "backslash escapes); rename the file to run it"
                )
            if not path.is_file():
                raise BadInput(f"--file: {path} is not a file")
            v = file_version(path)
            offer = Offer(workflow, "manual", path, v.size, v.mtime_ns, v.sha256, actor, mode)
        if not self._serves((wf.definition or {}).get("runs_on")):  # queued for its engine
            created, _ = self._record_offers([offer], start=False)
            self._publish(EventKind.RUNS_CREATED, runs=[r.run_id for r in created])
            return created[0].run_id
        created, started = self._record_offers([offer])
        self._dispatch(created, started)
        return created[0].run_id

    # Problems and failure notices ------------------------------------------

    def _on_problem(self, key: str, message: str) -> None:
        with self.db.connection_context():
            recorded = record_watch_problem(self.db, key, message, self._host)
        if recorded:
            self._publish(EventKind.NOTIFICATION, workflow=key)
