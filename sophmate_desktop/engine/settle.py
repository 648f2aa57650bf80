"""Settling for folder triggers: a path is delivered once its size and mtime held still
for its settle time. One thread and one heap of deadlines for every watched path; it
sleeps on a Condition until the next deadline, so an idle watcher costs nothing."""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable

from sophmate_desktop.engine.scan import FileStamp, file_stamp

log = logging.getLogger(__name__)


class Pending:
    __slots__ = ("closed_only", "deadline", "heap_deadline", "settle_s", "stamp")

    def __init__(
        self, stamp: FileStamp, deadline: float, settle_s: float, closed_only: bool = False
    ) -> None:
        self.stamp = stamp
        self.deadline = deadline
        self.heap_deadline: float | None = deadline  # its one live heap item, if any
        self.settle_s = settle_s
        # `settle: closed`: no timer, only the writer's close ends settling
        self.closed_only = closed_only

    def rearm(self, now: float) -> None:
        self.deadline = math.inf if self.closed_only else now + self.settle_s


class Settler:
    """One thread, one heap of deadlines: a path is delivered once its stamp held
    still for its settle time. Sleeps on a Condition until the next deadline."""

    def __init__(self, deliver: Callable[[str, str], None]) -> None:
        self._deliver = deliver
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, tuple[str, str]]] = []
        self._pending: dict[tuple[str, str], Pending] = {}
        self._seq = itertools.count()
        self._stopping = False
        self.thread = threading.Thread(target=self._run, name="sophmate-watch-settle", daemon=True)

    def _push(self, deadline: float, ident: tuple[str, str]) -> None:
        heapq.heappush(self._heap, (deadline, next(self._seq), ident))
        if self._heap[0][2] is ident:
            self._cond.notify()

    def waiting(self, ident: tuple[str, str]) -> bool:
        """Whether ident is settling now (e.g. waiting for its writer to close it)."""
        with self._cond:
            return ident in self._pending

    def discard(self, ident: tuple[str, str]) -> bool:
        with self._cond:
            return self._pending.pop(ident, None) is not None

    def observe(
        self,
        ident: tuple[str, str],
        stamp: FileStamp | None,
        settle_s: float,
        *,
        trigger: bool,
        finished: bool,
        closed_only: bool = False,
    ) -> None:
        """A new event for ident: start settling (trigger), or push its deadline.
        `finished` (a close-after-write) completes settling if the stamp held; with
        `closed_only` only a close completes it (no timer)."""
        now = time.monotonic()
        with self._cond:
            entry = self._pending.get(ident)
            if stamp is None:  # vanished before settling: drop silently
                if entry is not None:
                    del self._pending[ident]
                return
            if entry is None:
                if not trigger:
                    return
                entry = self._pending[ident] = Pending(stamp, now, settle_s, closed_only)
                entry.rearm(now)
                entry.heap_deadline = entry.deadline
                if finished and closed_only:
                    entry.deadline = entry.heap_deadline = now
                if entry.deadline != math.inf:
                    self._push(entry.deadline, ident)
                return
            if finished and (stamp == entry.stamp or entry.closed_only):
                entry.stamp = stamp
                entry.deadline = now
            else:
                entry.stamp = stamp
                entry.rearm(now)
            if entry.deadline == math.inf:
                return
            if entry.heap_deadline is None or entry.deadline < entry.heap_deadline:
                entry.heap_deadline = entry.deadline
                self._push(entry.deadline, ident)

    def _take_due(self) -> list[tuple[tuple[str, str], Pending]] | None:
        with self._cond:
            while True:
                if self._stopping:
                    return None
                now = time.monotonic()
                if self._heap and self._heap[0][0] <= now:
                    break
                self._cond.wait(self._heap[0][0] - now if self._heap else None)
            due = []
            while self._heap and self._heap[0][0] <= now:
                deadline, _, ident = heapq.heappop(self._heap)
                entry = self._pending.get(ident)
                if entry is None or entry.heap_deadline != deadline:
                    continue  # stale heap item
                if entry.deadline > now:  # pushed by later events: one heap item per entry
                    entry.heap_deadline = entry.deadline
                    self._push(entry.deadline, ident)
                    continue
                entry.heap_deadline = None  # being checked: a new event must re-arm it
                due.append((ident, entry))
            return due

    def _run(self) -> None:
        while (due := self._take_due()) is not None:
            try:
                self._check(due)
            except Exception:
                log.exception("settling failed")

    def _check(self, due: list[tuple[tuple[str, str], Pending]]) -> None:
        deliver = []
        for ident, entry in due:
            stamp = file_stamp(ident[1])
            with self._cond:
                if self._pending.get(ident) is not entry or entry.heap_deadline is not None:
                    continue  # an event came meanwhile and re-armed it (or it was dropped)
                if stamp is None:
                    del self._pending[ident]
                elif stamp == entry.stamp:
                    del self._pending[ident]
                    deliver.append(ident)
                else:  # written again (with closed_only: after its close)
                    entry.stamp = stamp
                    entry.rearm(time.monotonic())
                    entry.heap_deadline = entry.deadline
                    if entry.deadline != math.inf:
                        self._push(entry.deadline, ident)
        for key, path in deliver:
            self._deliver(key, path)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
