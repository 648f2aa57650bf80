"""The window's own figures, shared by bench.history (--window: opening on a big
history) and bench.responsiveness (the main thread while the engine applies 1,000
writes): how soon the first rows show, and the longest gap between event-loop ticks.

A 5 ms QTimer ticks on the main thread; any tick later than that by more than a few
ms is time the main thread spent elsewhere (a stall a person feels as a frozen window).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

TICK_MS = 5


class GapMeter:
    """The longest gap between ticks of a TICK_MS timer, while it runs."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.longest_ms = 0.0
        self._last = 0.0
        self._timer = QTimer()
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last:
            self.longest_ms = max(self.longest_ms, (now - self._last) * 1000 - TICK_MS)
        self._last = now

    def __enter__(self) -> GapMeter:
        self._last = 0.0
        self._timer.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._timer.stop()


def pump_until(done: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Run the event loop until `done()`; returns the ms it took."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    start = time.perf_counter()
    deadline = start + timeout_s
    while not done():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what} within {timeout_s} s")
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
    return (time.perf_counter() - start) * 1000


def open_on(url: str) -> dict[str, float]:
    """Open the window on `url` (no engine) at 1024x700 and time what a person waits
    for: the window shown, then Inbox and Runs each showing their first rows, and
    the dashboard read; with the longest main-thread gap meanwhile."""
    from PySide6.QtWidgets import QApplication

    from sophmate_desktop.app import create_window
    from sophmate_desktop.ui import navigator as nav

    QApplication.instance() or QApplication([])
    out: dict[str, float] = {}
    start = time.perf_counter()
    window = create_window(url, actor="ana", start_engine=False)
    window.resize(1024, 700)
    window.show()
    out["window shown"] = (time.perf_counter() - start) * 1000
    try:
        with GapMeter() as gaps:
            dash = window.page(nav.DASHBOARD)
            out["dashboard read"] = out["window shown"] + pump_until(
                lambda: dash.data is not None, 60, "the dashboard"
            )
            inbox = window.page(nav.INBOX)
            t = time.perf_counter()
            window.show_page(nav.INBOX)
            pump_until(lambda: inbox.model.rowCount() > 0, 60, "the inbox's first rows")
            out["inbox first rows"] = (time.perf_counter() - t) * 1000
            runs = window.page(nav.RUNS)
            t = time.perf_counter()
            window.show_page(nav.RUNS)
            pump_until(lambda: runs.model.rowCount() > 0, 60, "the runs' first rows")
            out["runs first rows"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            runs.views.setCurrentWidget(runs.grid)
            pump_until(lambda: runs.grid.rowCount() > 0, 60, "the runs grid")
            out["runs grid shown"] = (time.perf_counter() - t) * 1000
            pump_until(lambda: not window.services.tasks.busy, 60, "background reads")
        out["longest main-thread gap while opening"] = gaps.longest_ms
    finally:
        window.shutdown()
        window.deleteLater()
    return out


BULK_WORKFLOW = """\
name: bulk
category: bench
owner: bench-owner
description: One write per CSV row, for the main thread while they apply.
trigger: {{manual: true}}
input: {{read: csv}}
output: {{paths: ["{out}"], staging_paths: ["{out}"]}}
max_writes: {n}
steps:
  - action: write_file
    for_each: rows
    to: "{{{{ output.path }}}}/{{{{ row.n }}}}.txt"
    content: "row {{{{ row.n }}}}"
approval: {{mode: always}}
retry: {{limit: 0, backoff_s: 1}}
notify: {{on_failure: [tray]}}
pause: {{consecutive_failures: 100}}
rollback: Delete the written files.
"""


def _bulk_database(tmp: Path, n: int) -> tuple[str, Path]:
    """A database with the bulk workflow enabled, and a CSV of `n` rows for it."""
    from sophmate_desktop.console import Console
    from sophmate_desktop.store.database import open_database

    root = tmp / f"apply-{time.monotonic_ns()}"
    out = root / "out"
    out.mkdir(parents=True)
    url = f"sqlite:///{root / 'db.sqlite3'}"
    setup = open_database(url)
    lead = Console(setup, actor="lead")
    lead.import_workflow(BULK_WORKFLOW.format(out=out, n=n))
    lead.enable_workflow("bulk")
    setup.close()
    rows = root / "rows.csv"
    rows.write_text("n\n" + "".join(f"{i}\n" for i in range(n)))
    return url, rows


def apply_gap(tmp: Path, n: int = 1000) -> dict[str, float]:
    """The window with its engine: a run plans `n` writes, another person approves
    them all (another connection, another thread), the engine applies them; returns
    the longest main-thread gap from the approval until the last is applied, and how
    long that took."""
    from PySide6.QtWidgets import QApplication

    from sophmate_desktop.app import create_window
    from sophmate_desktop.console import Console
    from sophmate_desktop.store.models import Run, Write
    from sophmate_desktop.ui import navigator as nav

    QApplication.instance() or QApplication([])
    url, rows = _bulk_database(tmp, n)

    window = create_window(url, actor="ana", start_engine=True)
    window.resize(1024, 700)
    window.show()
    window.show_page(nav.INBOX)  # the page that follows every decision and apply
    engine = window.services.engine
    try:
        run_id = engine.run_now("bulk", rows, actor="lead", mode="staging")
        planned = lambda: Run.get_by_id(run_id).status == "awaiting_approval"  # noqa: E731
        pump_until(planned, 120, f"{n} writes planned")
        ids = [w.id for w in Write.select(Write.id).where(Write.run == run_id)]
        assert len(ids) == n, f"{len(ids)} writes planned, not {n}"
        done = threading.Event()
        failed: list[BaseException] = []

        shared = window.services.console.db

        def approve() -> None:  # bo, on another thread (its own connection)
            try:
                with shared.connection_context():
                    Console(shared, actor="bo").approve(ids, comment="bench")
                    applied = Write.select().where(Write.id.in_(ids), Write.status == "applied")
                    while applied.count() < n:
                        time.sleep(0.02)
            except BaseException as exc:  # reported below
                failed.append(exc)
            finally:
                done.set()

        start = time.perf_counter()
        with GapMeter() as gaps:
            worker = threading.Thread(target=approve, name="bench-approver")
            worker.start()
            pump_until(done.is_set, 300, f"{n} writes applied")
            worker.join()
        if failed:
            raise failed[0]
        return {
            f"main-thread gap while {n:,} writes apply": gaps.longest_ms,
            f"{n:,} writes approved and applied": (time.perf_counter() - start) * 1000,
        }
    finally:
        window.shutdown()
        window.deleteLater()
