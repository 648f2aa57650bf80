"""The file writes of a batch applied side by side, each target's writes in order.

An applied file write costs one fsync of the file, and a file fsync on ext4 (and most
journaling file systems) waits for a journal commit. Fsyncs that are waiting at the
same time share one commit, so writes to different files applied by a few threads at
once cost little more than one does alone; one at a time they cost a commit each.
Writes to the same target form one chain, applied in the order of the batch on one
thread, so their order holds as it does across appliers (engine/queues.py). The
threads touch no database: what they run is given all it needs (engine/write_apply.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

IO_THREADS = 8  # concurrent fsyncs; more share a commit, beyond ~8 little is gained

Item = TypeVar("Item")
Result = TypeVar("Result")


class ChainPool:
    """Runs chains of items on a few threads: a chain's items in order on one thread,
    different chains at once. Started on first use; `shutdown` ends its threads (a
    later use starts them again)."""

    def __init__(self, threads: int = IO_THREADS, name: str = "sophmate-apply-io") -> None:
        self.threads = max(1, threads)
        self._name = name
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def run(
        self, chains: Sequence[Sequence[Item]], step: Callable[[Item], Result]
    ) -> list[list[Result]]:
        """`step` applied to every item; the results in the shape of `chains`. One chain
        (or one thread) runs in the caller's thread. An exception of `step` is raised
        here once every chain has ended."""
        if len(chains) <= 1 or self.threads == 1:
            return [[step(item) for item in chain] for chain in chains]
        pool = self._started()
        futures: list[Future[list[Result]]] = [
            pool.submit(lambda chain=chain: [step(item) for item in chain]) for chain in chains
        ]
        wait(futures)
        return [f.result() for f in futures]

    def _started(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix=self._name)
            return self._pool

    def shutdown(self) -> None:
        """Idle threads end now; a chain still running (an applier the engine's stop
        gave up waiting for) ends on its own, without holding the stop up."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)
