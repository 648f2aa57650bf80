"""Folder triggers: one shared watchdog observer and its supervision (settling of
each path is in settle.py).

The manager only reports candidate files (`on_file`); the intake records each file
version once through its ledger, so a file may be reported twice but must never be
missed. Whenever events may have been lost (inotify overflow, a restarted observer,
a folder that came back) the manager asks for a reconciliation scan (`on_rescan`).

Callbacks run on the manager's threads (the observer thread for settle_ms == 0, else
the settling thread; `on_rescan` on the supervisor thread): they must return quickly
and must not call back into the manager.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.engine.scan import FileStamp, WatchSpec, file_stamp
from sophmate_desktop.engine.settle import Settler

log = logging.getLogger(__name__)

RESCAN_DEBOUNCE_S = 0.5
_OVERFLOW_MARKERS = ("queue overflowed", "events were lost")
# Only what we use: keeps IN_OPEN/IN_ACCESS/IN_CLOSE_NOWRITE (our own reads) out of the
# kernel queue, which makes an overflow less likely.
_EVENT_FILTER = (FileCreatedEvent, FileMovedEvent, FileModifiedEvent, FileClosedEvent)
# A folder whose specs all act at once on a file's arrival (no settling, no "modified"
# trigger) has no use for the write and close that follow each create: two thirds of
# the events, and a fifth of the engine's CPU in a burst (bench.burst).
_ARRIVAL_FILTER = (FileCreatedEvent, FileMovedEvent)

__all__ = ["WatchManager", "WatchSpec"]


class _GroupKey(NamedTuple):
    folder: str
    recursive: bool
    polling: bool
    arrivals_only: bool = False


class _Group:
    """Specs sharing one scheduled watch (same folder, recursion and observer)."""

    def __init__(self, manager: WatchManager, gkey: _GroupKey) -> None:
        self.gkey = gkey
        self.handler = _Handler(manager, gkey)
        self.watch: ObservedWatch | None = None
        self.problem: str | None = None


class _Handler(FileSystemEventHandler):
    def __init__(self, manager: WatchManager, gkey: _GroupKey) -> None:
        self._manager = manager
        self._gkey = gkey

    def dispatch(self, event: FileSystemEvent) -> None:
        # An exception escaping here would kill the observer thread for good.
        try:
            self._manager._on_event(self._gkey, event)
        except Exception:
            log.exception("watch handler failed on %r", event)


class _OverflowLogHandler(logging.Handler):
    def __init__(self, on_overflow: Callable[[], None]) -> None:
        super().__init__(logging.WARNING)
        self._on_overflow = on_overflow

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage().lower()
        except Exception:
            return
        if any(marker in message for marker in _OVERFLOW_MARKERS):
            self._on_overflow()


def _new_native_observer() -> BaseObserver:
    if sys.platform.startswith("linux"):
        from watchdog.observers.inotify import InotifyObserver

        # Full events: a rename into the folder from anywhere arrives as "moved".
        return InotifyObserver(generate_full_events=True)
    from watchdog.observers import Observer

    return Observer()


class WatchManager:
    """Watches the folders of a set of WatchSpecs and reports settled files."""

    def __init__(
        self,
        on_file: Callable[[str, Path], None],
        on_problem: Callable[[str, str], None],
        on_rescan: Callable[[str | None], None],
        *,
        polling_interval_s: float = 1.0,
        supervise_interval_s: float = 1.0,
    ) -> None:
        self._on_file = on_file
        self._on_problem = on_problem
        self._on_rescan = on_rescan
        self._polling_interval_s = polling_interval_s
        self._supervise_interval_s = supervise_interval_s
        self._lock = threading.RLock()
        self._specs: dict[str, WatchSpec] = {}
        # Replaced whole, never mutated: handlers read it without the lock.
        self._routes: dict[_GroupKey, tuple[WatchSpec, ...]] = {}
        self._groups: dict[_GroupKey, _Group] = {}
        self._reported: dict[str, str] = {}  # key -> problem already reported
        self._native: BaseObserver | None = None
        self._poller: BaseObserver | None = None
        self._settler: Settler | None = None
        self._supervisor: threading.Thread | None = None
        self._running = False
        self._stop_event = threading.Event()
        self._wake = threading.Event()
        self._rescan_due = False
        self._last_rescan = -RESCAN_DEBOUNCE_S
        self._log_handler = _OverflowLogHandler(self._request_rescan)

    # ----- public API -----

    @property
    def is_alive(self) -> bool:
        supervisor = self._supervisor
        return self._running and supervisor is not None and supervisor.is_alive()

    def set_watches(self, specs: Iterable[WatchSpec]) -> None:
        """Replace the watch set; groups whose folder/recursion/mode is unchanged keep
        their watch, so no events are lost for them."""
        new_specs: dict[str, WatchSpec] = {}
        for spec in specs:
            if spec.key in new_specs:
                raise BadInput(f"two watches share the key {spec.key!r}")
            new_specs[spec.key] = spec
        # One observer holds one kernel watch per folder, whose event mask the last
        # schedule sets: every group on a folder must ask for the same events.
        lean: dict[tuple[str, bool], bool] = {}
        for spec in new_specs.values():
            where = (str(spec.folder), spec.polling)
            lean[where] = lean.get(where, True) and spec.arrivals_only
        routes: dict[_GroupKey, tuple[WatchSpec, ...]] = {}
        for spec in new_specs.values():
            folder = str(spec.folder)
            gkey = _GroupKey(folder, spec.recursive, spec.polling, lean[(folder, spec.polling)])
            routes[gkey] = (*routes.get(gkey, ()), spec)
        with self._lock:
            # Routes first: a new watch's first events must find their specs. The old
            # groups keep theirs until the new watches are in place, so a spec that
            # moves to another group (its settling changed) misses nothing meanwhile;
            # a file seen by both is recorded once (the ledger).
            self._routes = {**self._routes, **routes}
            self._specs = new_specs
            for gkey in routes.keys() - self._groups.keys():
                group = self._groups[gkey] = _Group(self, gkey)
                if self._running:
                    self._schedule(group)
            self._routes = routes
            for gkey in self._groups.keys() - routes.keys():
                self._unschedule(self._groups.pop(gkey))
            problems = self._problems_to_report()
        self._notify(problems, [])

    def start(self) -> None:
        with self._lock:
            if self._running:
                return
            self._running = True
            self._stop_event.clear()
            self._reported.clear()
            self._attach_log_handler()
            self._settler = Settler(self._deliver)
            self._settler.thread.start()
            for group in self._groups.values():
                self._schedule(group)
            self._supervisor = threading.Thread(
                target=self._supervise, name="sophmate-watch-supervisor", daemon=True
            )
            self._supervisor.start()
            problems = self._problems_to_report()
        self._notify(problems, [])

    def stop(self, timeout: float = 5) -> None:
        """Stop and join every thread this manager started. Idempotent."""
        deadline = time.monotonic() + timeout
        with self._lock:
            if not self._running:
                return
            self._running = False
            self._stop_event.set()
            self._wake.set()
            observers = [o for o in (self._native, self._poller) if o is not None]
            self._native = self._poller = None
            for group in self._groups.values():
                group.watch = None
            settler, supervisor = self._settler, self._supervisor
        logging.getLogger("watchdog").removeHandler(self._log_handler)
        if supervisor is not None:
            supervisor.join(max(0.0, deadline - time.monotonic()))
        for observer in observers:
            observer.stop()
        for observer in observers:
            observer.join(max(0.0, deadline - time.monotonic()))
        if settler is not None:
            settler.stop()
            settler.thread.join(max(0.0, deadline - time.monotonic()))

    # ----- events (observer threads) -----

    def _on_event(self, gkey: _GroupKey, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        specs = self._routes.get(gkey)
        if not specs:
            return
        paths = self._event_paths(specs, event)
        if paths is None:
            return
        kind, src, moved_from = paths
        stamp: FileStamp | None = None
        stamped = False
        for spec in specs:
            if not spec.matches_str(src):
                if moved_from:
                    self._settler_discard(spec.key, moved_from)
                continue
            trigger = self._triggers(gkey, spec, kind, moved_from)
            if not trigger and spec.settle_ms == 0 and not spec.settle_closed:
                continue  # nothing to deliver and nothing settling: no need to stat
            if not stamped:
                stamp, stamped = file_stamp(src), True
            self._route(spec, kind, src, stamp, trigger)

    def _event_paths(
        self, specs: tuple[WatchSpec, ...], event: FileSystemEvent
    ) -> tuple[str, str, str] | None:
        """(kind, path, path moved from or ""), or None for an event no watch acts on."""
        kind = event.event_type
        src = os.fsdecode(event.src_path)
        moved_from = ""
        if kind == "moved":
            moved_from, src = src, os.fsdecode(event.dest_path)
            if not src:  # moved out of the folder
                for spec in specs:
                    self._settler_discard(spec.key, moved_from)
                return None
        elif kind not in ("created", "modified", "closed"):
            return None
        return kind, src, moved_from

    def _triggers(self, gkey: _GroupKey, spec: WatchSpec, kind: str, moved_from: str) -> bool:
        trigger = kind in spec.events or (
            # a polling snapshot cannot tell a rename into the folder from a create
            gkey.polling and kind == "created" and "moved" in spec.events
        )
        if moved_from and self._settler_discard(spec.key, moved_from):
            trigger = True  # a settling file was renamed: keep settling it
        return trigger

    def _route(
        self, spec: WatchSpec, kind: str, src: str, stamp: FileStamp | None, trigger: bool
    ) -> None:
        if spec.settle_ms == 0 and not spec.settle_closed:
            if trigger and stamp is not None:
                self._deliver(spec.key, src)
            return
        settler = self._settler
        if settler is not None:
            settler.observe(
                (spec.key, src),
                stamp,
                spec.settle_ms / 1000,
                trigger=trigger,
                finished=kind == "closed" and ("closed" in spec.events or spec.settle_closed),
                # a rename brings a file its writer closed already: the timer it is
                closed_only=spec.settle_closed and kind != "moved",
            )

    def settling(self, key: str, path: str) -> bool:
        """Whether the watcher is settling this file now (with `settle: closed`: it
        waits for the writer to close it), so a rescan leaves it to the watcher."""
        settler = self._settler
        return settler is not None and settler.waiting((key, path))

    def _settler_discard(self, key: str, path: str) -> bool:
        settler = self._settler
        return settler is not None and settler.discard((key, path))

    def _deliver(self, key: str, path: str) -> None:
        spec = self._specs.get(key)
        if spec is None or not spec.matches_str(path):
            return  # the watch was removed or changed while the file settled
        try:
            self._on_file(key, Path(path))
        except Exception:
            log.exception("on_file(%r, %s) failed", key, path)

    # ----- scheduling (caller holds self._lock) -----

    def _observer_for(self, polling: bool) -> BaseObserver:
        observer = self._poller if polling else self._native
        if observer is None:
            if polling:
                observer = PollingObserver(timeout=self._polling_interval_s)
            else:
                observer = _new_native_observer()
            observer.start()
            if polling:
                self._poller = observer
            else:
                self._native = observer
        return observer

    def _schedule(self, group: _Group) -> bool:
        folder = group.gkey.folder
        if not os.path.isdir(folder):
            exists = os.path.exists(folder)
            group.problem = (
                f"watched folder {folder} {'is not a folder' if exists else 'does not exist'}"
            )
            return False
        try:
            observer = self._observer_for(group.gkey.polling)
            events = _ARRIVAL_FILTER if group.gkey.arrivals_only else _EVENT_FILTER
            group.watch = observer.schedule(
                group.handler, folder, recursive=group.gkey.recursive, event_filter=list(events)
            )
        except FileNotFoundError:
            group.problem = f"watched folder {folder} does not exist"
            return False
        except OSError as exc:  # ENOSPC (watch limit), EMFILE, EACCES...
            group.problem = f"cannot watch folder {folder}: {exc}"
            return False
        group.problem = None
        return True

    def _unschedule(self, group: _Group) -> None:
        watch, group.watch = group.watch, None
        observer = self._poller if group.gkey.polling else self._native
        if watch is None or observer is None:
            return
        try:
            observer.unschedule(watch)
        except Exception:
            log.debug("unschedule %s failed", watch, exc_info=True)

    def _problems_to_report(self) -> list[tuple[str, str]]:
        """Problems of current groups not yet reported to their keys."""
        out = []
        for key in self._reported.keys() - self._specs.keys():
            del self._reported[key]
        for gkey, group in self._groups.items():
            for spec in self._routes.get(gkey, ()):
                if group.problem is None or not self._running:
                    self._reported.pop(spec.key, None)
                elif self._reported.get(spec.key) != group.problem:
                    self._reported[spec.key] = group.problem
                    out.append((spec.key, group.problem))
        return out

    def _notify(self, problems: list[tuple[str, str]], rescans: list[str | None]) -> None:
        for key, message in problems:
            log.warning("watch %s: %s", key, message)
            try:
                self._on_problem(key, message)
            except Exception:
                log.exception("on_problem failed")
        for rescan_key in rescans:
            try:
                self._on_rescan(rescan_key)
            except Exception:
                log.exception("on_rescan(%r) failed", rescan_key)

    # ----- supervision -----

    def _attach_log_handler(self) -> None:
        watchdog_logger = logging.getLogger("watchdog")
        if watchdog_logger.getEffectiveLevel() > logging.WARNING:
            watchdog_logger.setLevel(logging.WARNING)  # the overflow warning must get through
        if self._log_handler not in watchdog_logger.handlers:
            watchdog_logger.addHandler(self._log_handler)

    def _request_rescan(self) -> None:
        # Runs on the inotify thread: only flag it, the supervisor calls on_rescan.
        self._rescan_due = True
        self._wake.set()

    def _supervise(self) -> None:
        next_check = time.monotonic()
        while not self._stop_event.is_set():
            now = time.monotonic()
            timeout = next_check - now
            if self._rescan_due:
                timeout = min(timeout, self._last_rescan + RESCAN_DEBOUNCE_S - now)
            if timeout > 0:
                self._wake.wait(timeout)
                self._wake.clear()
                continue
            if self._stop_event.is_set():
                return
            now = time.monotonic()
            if self._rescan_due and now >= self._last_rescan + RESCAN_DEBOUNCE_S:
                self._rescan_due = False
                self._last_rescan = now
                self._notify([], [None])
            if now >= next_check:
                next_check = now + self._supervise_interval_s
                try:
                    self._check()
                except Exception:
                    log.exception("watch supervisor check failed")

    def _check(self) -> None:
        rescans: list[str | None] = []
        with self._lock:
            if not self._running:
                return
            restarted = self._restart_dead_observers()
            if restarted:
                rescans.append(None)
            rescans.extend(self._reschedule_unhealthy(restarted))
            problems = self._problems_to_report()
        if restarted:
            self._last_rescan = time.monotonic()
            self._rescan_due = False
        self._notify(problems, rescans)

    def _restart_dead_observers(self) -> bool:
        """Caller holds self._lock. Whether an observer had died (and was replaced)."""
        restarted = False
        for polling in (False, True):
            observer = self._poller if polling else self._native
            if observer is None or (observer.is_alive() and not observer.stopped_event.is_set()):
                continue
            log.warning("watch observer died; restarting it")
            restarted = True
            observer.stop()  # also stops its emitters and inotify thread
            observer.join(2.0)
            if polling:
                self._poller = None
            else:
                self._native = None
            for group in self._groups.values():
                if group.gkey.polling == polling:
                    group.watch = None
                    self._schedule(group)
        return restarted

    def _reschedule_unhealthy(self, restarted: bool) -> list[str]:
        """Caller holds self._lock. The keys of watches to rescan once scheduled again
        (none after a restart: the full rescan covers them)."""
        rescans: list[str] = []
        live = self._live_watches()
        for gkey, group in self._groups.items():
            keys = [spec.key for spec in self._routes.get(gkey, ())]
            if group.watch is not None and self._watch_is_healthy(group, live):
                continue
            if group.watch is not None:  # folder vanished or its emitter stopped
                self._unschedule(group)
            if self._schedule(group) and not restarted:
                rescans.extend(keys)
        return rescans

    def _live_watches(self) -> dict[bool, set[ObservedWatch]]:
        """Watches with a live emitter, per observer kind (polling or not): one pass
        over the emitters per check, not one per group (50 folders made it 2,500)."""
        live: dict[bool, set[ObservedWatch]] = {}
        for polling in (False, True):
            observer = self._poller if polling else self._native
            emitters = list(observer.emitters) if observer is not None else []
            live[polling] = {e.watch for e in emitters if e.is_alive()}
        return live

    def _watch_is_healthy(self, group: _Group, live: dict[bool, set[ObservedWatch]]) -> bool:
        return group.watch in live[group.gkey.polling] and os.path.isdir(group.gkey.folder)
