"""What is in flight right now, so a kill switch can reach it at once."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from dataclasses import dataclass, field
from typing import Any

from sophmate_desktop.domain.enums import EffectKind


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
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_process(self, proc: Any) -> None:
        with self.lock:
            self.processes.append(proc)
            cancelled = self.cancelled.is_set()
        if cancelled:
            kill_process(proc)

    def cancel(self, reason: str) -> None:
        self.reason = reason
        self.cancelled.set()
        with self.lock:
            procs = list(self.processes)
        for proc in procs:
            kill_process(proc)


def kill_process(proc: Any) -> None:
    """Kill a command and its process group (commands start in their own session)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, OSError):
        proc.kill()


class InFlightTable:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, int], InFlight] = {}

    def add(self, item: InFlight) -> InFlight:
        with self._lock:
            self._items[(item.kind, item.id)] = item
        return item

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
