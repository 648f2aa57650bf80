"""Waiting on the engine: until a run reaches a status, until nothing is left to do
(the CLI's `workflow run --wait`, the demo, tests). Mixed into `Engine`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from peewee import Database

from sophmate_desktop.domain.enums import RunStatus
from sophmate_desktop.store.models import Run
from sophmate_desktop.store.sql import workflow_not_in

if TYPE_CHECKING:
    from sophmate_desktop.engine.queues import RunQueue, WriteQueue


class EngineWaiting:
    db: Database
    runs: RunQueue
    writes: WriteQueue
    _idle: threading.Condition
    wake: Callable[[], None]

    def wait_for_run(
        self,
        run_id: int,
        timeout: float = 30.0,
        until: tuple[str, ...] = (
            "succeeded",
            "failed",
            "rejected",
            "cancelled",
            "awaiting_approval",
            "held",
        ),
    ) -> str:
        """Block until the run reaches one of `until`; returns its status."""
        deadline = time.monotonic() + timeout
        with self.db.connection_context():
            while True:
                status = Run.get_by_id(run_id).status
                if status in until:
                    return status
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"run {run_id} still {status} after {timeout} s")
                with self._idle:
                    self._idle.wait(min(remaining, 0.05))

    def is_idle(self) -> bool:
        return (
            self.runs.empty()
            and self.writes.empty()
            and len(self.inflight) == 0
            and not self.recorder.pending()
            and self.triggers.idle()
        )

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Until nothing is in flight here and no run this engine would take waits (the
        runs of workflows bound to another engine are that engine's)."""
        deadline = time.monotonic() + timeout
        while True:
            elsewhere = self.triggers.served_elsewhere()
            waiting = Run.select().where(
                Run.status.in_([RunStatus.QUEUED.value, RunStatus.RUNNING.value]),
                Run.next_attempt_at.is_null(),
                workflow_not_in(Run.workflow, elsewhere),
            )
            if self.is_idle() and not waiting.exists():
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the engine did not become idle")
            self.wake()
            with self._idle:
                self._idle.wait(0.05)
