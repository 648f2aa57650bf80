"""A page's read in the background, one at a time.

`request()` starts the read on services.tasks. Asked again while a read runs, it
reads once more when that read ends (and drops the earlier result: it may predate
the change that asked), so any number of requests during a read cost one more read.
A result that arrives after the page was closed is dropped. `request(read)` swaps
in the read to run (a query built on the main thread from what the page shows now);
the read that runs again after a busy one is the latest asked for.

Failures reach `failed` on the main thread; the task runner also logs and reports
the unexpected ones (see ui/tasks.py) unless `report=False`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject

from sophmate_desktop.ui.tasks import TaskRunner


class BackgroundRead:
    def __init__(
        self,
        owner: QObject,
        tasks: TaskRunner,
        read: Callable[[], Any],
        show: Callable[[Any], None],
        failed: Callable[[BaseException], None],
        *,
        report: bool = True,
    ) -> None:
        self._owner = owner
        self._tasks = tasks
        self._read = read
        self._show = show
        self._failed = failed
        self._report = report
        self._loading = False
        self._again = False

    @property
    def loading(self) -> bool:
        return self._loading

    def request(self, read: Callable[[], Any] | None = None) -> None:
        if read is not None:
            self._read = read
        if self._loading:
            self._again = True
            return
        self._loading = True
        self._tasks.run(self._read, self._done, self._error, report=self._report)

    def _done(self, result: Any) -> None:
        if not shiboken6.isValid(self._owner):
            return  # the page was closed while its read ran
        self._loading = False
        if self._again:
            self._again = False
            self.request()
            return
        self._show(result)

    def _error(self, error: BaseException) -> None:
        if not shiboken6.isValid(self._owner):
            return
        self._loading = False
        self._failed(error)
        if self._again:
            self._again = False
            self.request()
