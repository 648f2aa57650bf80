"""Background work with success/failure callbacks run back on the main thread.

Modelled on Anki's CollectionOp / QueryOp: the UI hands over a callable, which runs
on a pool thread with its own database connection; exactly one of `on_success(result)`
or `on_failure(exc)` is then called on the main thread. `wait_done()` lets the window
(and the tests) make sure no worker thread outlives it.

A failure is never lost: one nobody handles, or one that is not a refusal the product
raises on purpose (a SophmateError, which the page explains in place), is logged with
its traceback and announced on `task_failed`, which the window shows in a dialog.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from sophmate_desktop.console import Console
from sophmate_desktop.domain.errors import SophmateError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Work:
    fn: Callable[[], Any]
    on_success: Callable[[Any], None] | None
    on_failure: Callable[[BaseException], None] | None
    report: bool


class _Relay(QObject):
    finished = Signal(object, object, object)  # the _Work, its result, its exception


class _Job(QRunnable):
    def __init__(self, runner: TaskRunner, work: _Work) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._runner = runner
        self._work = work

    def run(self) -> None:
        result: Any = None
        error: BaseException | None = None
        try:
            with self._runner.console.thread_connection():
                result = self._work.fn()
        except BaseException as exc:  # handed to on_failure on the main thread
            error = exc
        self._runner._relay.finished.emit(self._work, result, error)
        self._runner._job_done()


class TaskRunner(QObject):
    """Runs callables off the main thread; at most `max_threads` at once."""

    task_failed = Signal(str, object)  # what failed (in words), the exception

    def __init__(self, console: Console, max_threads: int = 2, parent: QObject | None = None):
        super().__init__(parent)
        self.console = console
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._relay = _Relay(self)
        self._relay.finished.connect(self._deliver)
        self._active = 0
        self._lock = threading.Lock()
        self._in_flight_changed = threading.Condition(self._lock)

    def run(
        self,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        *,
        report: bool = True,
    ) -> None:
        """Run `fn` on a pool thread; `report=False`: the caller reports failures itself."""
        with self._lock:
            self._active += 1
        self._pool.start(_Job(self, _Work(fn, on_success, on_failure, report)))

    def report(self, what: str, error: BaseException) -> None:
        """Log `error` with its traceback and tell whoever shows errors to a person."""
        log.error("%s: %s", what, error, exc_info=error)
        self.task_failed.emit(what, error)

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._active > 0

    def _job_done(self) -> None:
        with self._lock:
            self._active -= 1
            self._in_flight_changed.notify_all()

    def _deliver(self, job: _Work, result: Any, error: BaseException | None) -> None:
        if error is None:
            if job.on_success is not None:
                job.on_success(result)
            return
        if job.report and (job.on_failure is None or not isinstance(error, SophmateError)):
            self.report(f"background task {_name_of(job.fn)} failed", error)
        if job.on_failure is not None:
            job.on_failure(error)

    def wait_done(self, timeout_ms: int = 30_000) -> bool:
        """Block until every job has run; True when the pool is empty."""
        return self._pool.waitForDone(timeout_ms)


def _name_of(fn: Callable[..., Any]) -> str:
    name = getattr(fn, "__qualname__", None) or type(fn).__name__
    return name.replace(".<locals>", "")
