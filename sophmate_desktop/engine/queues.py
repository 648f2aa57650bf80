"""The engine's two work queues and what is waiting for work: each owns its state, and
the parts that produce work (triggers, the monitor, the executor) get only these."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable
from typing import Any

from sophmate_desktop.engine.handles import InFlight

STOP = object()  # put once per consumer thread to end it


class _WorkQueue:
    """Ids for consumer threads, each queued once until it is done."""

    def __init__(self) -> None:
        self._queue: queue.Queue = queue.Queue()
        self._queued: set[int] = set()
        self._lock = threading.Lock()

    def enqueue(self, ids: Iterable[int]) -> None:
        with self._lock:
            fresh = [i for i in ids if i not in self._queued]
            self._queued.update(fresh)
        for item_id in fresh:
            self._queue.put(item_id)

    def stop(self, consumers: int) -> None:
        for _ in range(consumers):
            self._queue.put(STOP)

    def empty(self) -> bool:
        return self._queue.empty()

    def busy(self) -> bool:
        return bool(self._queued)


class RunQueue(_WorkQueue):
    """Runs for the workers: queued ids, or (id, in-flight item) for runs the intake
    started already. A run is never queued twice while a worker has it."""

    def __init__(self) -> None:
        super().__init__()
        self._idle_workers = 0

    def hand_over(self, run_id: int, item: InFlight) -> None:
        """A run the intake has started (claimed, in flight): straight to a worker."""
        with self._lock:
            self._queued.add(run_id)
        self._queue.put((run_id, item))

    def free_workers(self) -> int:
        """Workers waiting for a run right now, less the runs already queued for them."""
        with self._lock:
            return max(0, self._idle_workers - self._queue.qsize())

    def take(self) -> Any:
        """For a worker: the next entry (blocks); STOP ends the worker."""
        with self._lock:
            self._idle_workers += 1
        entry = self._queue.get()
        with self._lock:
            self._idle_workers -= 1
        return entry

    def take_batch(self, limit: int) -> list[Any]:
        """For a worker: the next entry (blocks) and up to `limit - 1` more that are
        waiting already (never waits for them), so a worker under load takes what has
        piled up in one go and an idle one starts at once. STOP stays last: entries
        after it are left for the other workers."""
        batch = [self.take()]
        while len(batch) < limit and batch[-1] is not STOP:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def done(self, run_id: int) -> None:
        # only now: the monitor must not queue it again while it is being claimed
        with self._lock:
            self._queued.discard(run_id)


class WriteQueue(_WorkQueue):
    """Approved writes for the appliers; a write is queued once until taken."""

    def take(self) -> Any:
        write_id = self._queue.get()
        if write_id is not STOP:
            with self._lock:
                self._queued.discard(write_id)
        return write_id
