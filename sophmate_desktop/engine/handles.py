"""What is in flight right now, so a kill switch can reach it at once."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sophmate_desktop.domain.enums import EffectKind

SHUTDOWN_REASON = "the engine is shutting down"


@dataclass
class InFlight:
    """A run being planned or a write being applied."""

    kind: str  # run | write
    id: int
    workflow: str
    category: str
    effects: tuple[EffectKind, ...]
    cancelled: threading.Event = field(default_factory=threading.Event)
    reason: str = ""
    processes: list[Any] = field(default_factory=list)
    killed: list[Any] = field(default_factory=list)  # processes a cancel killed alive
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Who records the end of this write: its own thread, or the monitor that killed its
    # commands (one batch for every write a pause killed). See take_finish.
    finisher: str | None = None
    finish_done: threading.Event = field(default_factory=threading.Event)
    finished_by_monitor: bool = False
    shutdown: bool = False  # cancelled because the engine stops, not by a kill switch
    hold: bool = False  # stopped by an effect switch (`ai`): the run is held, not cancelled
    started: float = field(default_factory=time.monotonic)  # the plan time limit counts from it
    # Told of each command started, to record it in the database (engine/lifeline.py).
    on_process: Callable[[InFlight, Any], None] | None = None

    def add_process(self, proc: Any) -> None:
        if self.on_process is not None:
            self.on_process(self, proc)
        with self.lock:
            self.processes.append(proc)
            cancelled = self.cancelled.is_set()
        if cancelled and kill_process(proc):
            with self.lock:
                self.killed.append(proc)

    def cancel(self, reason: str, *, shutdown: bool = False) -> None:
        self.shutdown = self.shutdown or shutdown
        self.kill(reason)
        self.cancelled.set()

    def kill(self, reason: str) -> None:
        """Kill this item's running commands; its thread learns of it from `cancelled`.
        (A monitor stopping many items kills them all before it wakes their threads.)"""
        self.reason = reason
        with self.lock:
            procs = [p for p in self.processes if not any(p is k for k in self.killed)]
        for proc in procs:
            if kill_process(proc):
                with self.lock:
                    self.killed.append(proc)

    def killed_and_gone(self) -> bool:
        """Every process of this item was killed while running and has been reaped."""
        with self.lock:
            procs, killed = list(self.processes), list(self.killed)
        return (
            bool(procs)
            and all(any(p is k for k in killed) for p in procs)
            and all(p.returncode is not None and p.returncode < 0 for p in procs)
        )

    def take_finish(self, who: str) -> bool:
        """The first to ask records this item's end; True if that is `who` and its end
        is not decided yet (a second monitor pass over a pause the first one recorded
        must not take it: it found nothing to record, handed the end to the thread, and
        the write was announced twice)."""
        if who == "monitor" and self.finish_done.is_set():
            return False
        with self.lock:
            if self.finisher is None:
                self.finisher = who
            return self.finisher == who

    def end_finish(self, finished: bool) -> None:
        """The monitor is done with this item: `finished` if it recorded the end. If it
        did not, the end is the thread's from now on: a later pass of the monitor over
        the same pause must not take it again (it did, and both announced the write)."""
        self.finished_by_monitor = finished
        if not finished:
            with self.lock:
                self.finisher = "thread"
        self.finish_done.set()


def kill_process(proc: Any) -> bool:
    """Kill a command and its process group (commands start in their own session).
    True if it was still running."""
    if proc.poll() is not None:
        return False
    with contextlib.suppress(OSError, AttributeError):
        # Dying processes tear down on the CPU too; at the lowest priority they leave
        # it to the engine, which records their end meanwhile (100 at once on 2 cores).
        os.setpriority(os.PRIO_PGRP, proc.pid, 19)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        with contextlib.suppress(ProcessLookupError, OSError):
            proc.kill()  # not a group leader after all: the process itself
    return True


def wait_reaped(procs: list[Any], timeout: float) -> bool:
    """Wait until every process has exited and been reaped; False on timeout."""
    deadline = time.monotonic() + timeout
    alive = list(procs)
    while True:
        alive = [p for p in alive if p.poll() is None]
        if not alive:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.001)


class InFlightTable:
    def __init__(self, on_process: Callable[[InFlight, Any], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, int], InFlight] = {}
        self._on_process = on_process

    def add(self, item: InFlight) -> InFlight:
        if item.on_process is None:
            item.on_process = self._on_process
        with self._lock:
            self._items[(item.kind, item.id)] = item
        return item

    def get(self, kind: str, item_id: int) -> InFlight | None:
        with self._lock:
            return self._items.get((kind, item_id))

    def remove(self, item: InFlight) -> None:
        with self._lock:
            self._items.pop((item.kind, item.id), None)

    def snapshot(self) -> list[InFlight]:
        with self._lock:
            return list(self._items.values())

    def ids(self, kind: str) -> set[int]:
        with self._lock:
            return {i for (k, i) in self._items if k == kind}

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
