"""The engine's two work queues and what is waiting for work: each owns its state, and
the parts that produce work (triggers, the monitor, the executor) get only these."""

from __future__ import annotations

import queue
import threading
import zlib
from collections import deque
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


def target_key(kind: str, effect: str, target: str) -> str | None:
    """What orders a write among others: writes to the same file path, or to the same
    HTTP URL (whatever the method), are applied in the order they were queued. Other
    writes (commands, emails) share no target: any free applier takes them."""
    if effect == "file":
        return f"file:{target}"
    if kind == "http_request":
        return f"http:{target}"
    return None


class WriteQueue:
    """Approved writes for the appliers, in one lane per applier: a write with a target
    key goes to the lane its key hashes to, so writes to one target stay in order on one
    applier while different targets go in parallel; a lane is taken in batches. Writes
    without a key wait in a shared line, one per take. A write is queued once until the
    applier that took it says `done` (after claiming it)."""

    def __init__(self, lanes: int = 1, batch: int = 64) -> None:
        self._cond = threading.Condition()
        self._lanes: list[deque[int]] = [deque() for _ in range(max(1, lanes))]
        self._free: deque[int] = deque()
        self._queued: set[int] = set()
        self._stops = [0] * len(self._lanes)
        self.batch = max(1, batch)

    def enqueue(self, entries: Iterable[tuple[int, str | None]]) -> None:
        with self._cond:
            for write_id, key in entries:
                if write_id in self._queued:
                    continue
                self._queued.add(write_id)
                if key is None:
                    self._free.append(write_id)
                else:
                    self._lanes[zlib.crc32(key.encode()) % len(self._lanes)].append(write_id)
            self._cond.notify_all()

    def take(self, lane: int) -> Any:
        """For applier `lane`: the next batch of its lane, else one write from the shared
        line (blocks); STOP ends the applier."""
        mine = self._lanes[lane]
        with self._cond:
            while not mine and not self._free and not self._stops[lane]:
                self._cond.wait()
            if self._stops[lane]:
                self._stops[lane] -= 1
                return STOP
            if mine:
                return [mine.popleft() for _ in range(min(self.batch, len(mine)))]
            return [self._free.popleft()]

    def done(self, write_ids: Iterable[int]) -> None:
        with self._cond:
            self._queued.difference_update(write_ids)

    def stop(self, consumers: int) -> None:
        with self._cond:
            for lane in range(min(consumers, len(self._lanes))):
                self._stops[lane] += 1
            self._cond.notify_all()

    def empty(self) -> bool:
        with self._cond:
            return not self._free and not any(self._lanes)

    def busy(self) -> bool:
        return bool(self._queued)
