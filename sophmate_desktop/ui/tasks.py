"""Background work with success/failure callbacks run back on the main thread.

Modelled on Anki's CollectionOp / QueryOp: the UI hands over a callable, which runs
on a pool thread with its own database connection; exactly one of `on_success(result)`
or `on_failure(exc)` is then called on the main thread. `wait_done()` lets the window
(and the tests) make sure no worker thread outlives it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from sophmate_desktop.console import Console

log = logging.getLogger(__name__)


class _Relay(QObject):
    finished = Signal(object, object, object, object)  # on_success, on_failure, result, exc


class _Job(QRunnable):
    def __init__(self, runner: TaskRunner, fn: Callable[[], Any], on_success, on_failure):
        super().__init__()
        self.setAutoDelete(True)
        self._runner = runner
        self._fn = fn
        self._on_success = on_success
        self._on_failure = on_failure

    def run(self) -> None:
        result: Any = None
        error: BaseException | None = None
        try:
            with self._runner.console.thread_connection():
                result = self._fn()
        except BaseException as exc:  # handed to on_failure on the main thread
            error = exc
        self._runner._relay.finished.emit(self._on_success, self._on_failure, result, error)
        self._runner._job_done()


class TaskRunner(QObject):
    """Runs callables off the main thread; at most `max_threads` at once."""

    task_failed = Signal(str)  # a failure nobody handled, in words

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
    ) -> None:
        with self._lock:
            self._active += 1
        self._pool.start(_Job(self, fn, on_success, on_failure))

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._active > 0

    def _job_done(self) -> None:
        with self._lock:
            self._active -= 1
            self._in_flight_changed.notify_all()

    def _deliver(self, on_success, on_failure, result, error) -> None:
        if error is None:
            if on_success is not None:
                on_success(result)
            return
        if on_failure is not None:
            on_failure(error)
        else:
            log.error("background task failed: %s", error, exc_info=error)
            self.task_failed.emit(str(error))

    def wait_done(self, timeout_ms: int = 30_000) -> bool:
        """Block until every job has run; True when the pool is empty."""
        return self._pool.waitForDone(timeout_ms)
