"""Benchmark of the approval inbox page and the audit page (issue 4, item 10).

    python -m bench.inbox [--writes N] [--audit-events N] [--json]

Setup (not measured), in a child process so that its memory does not count: a
temporary SQLite database with 20 workflows in 5 categories, N pending writes
(raw peewee insert_many; one run per 10 writes; write_file, send_email,
http_request and run_command in turn, the e-mails customer-facing) and M audit
events (audit.append_many, as bench.audit does).

Measured in this process, offscreen, with real services (Console, EventBridge,
TaskRunner; no engine):
1. open: from constructing InboxPage until the table shows its first rows
   (constructed, shown, one round of events processed: laid out and painted);
2. scroll: scrollToBottom in a loop until every page is loaded (the view's own
   fetchMore);
3. bulk approve: 10,000 rows selected (not timed), Approve clicked, then from
   accepting the confirmation until the page has reloaded after the decision
   (console.approve in services.tasks, one transaction, audit.append_many);
4. peak RSS of this process after 1-3 (ru_maxrss);
5. audit: from constructing sophmate_desktop.ui.pages.audit.AuditPage until its
   `auditTable` shows rows (a placeholder page without that table is timed to its
   first paint and reported as such).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bench.common import report

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

GOAL_OPEN_MS = 300.0
GOAL_APPROVE_S = 2.0
GOAL_RSS_MB = 350.0
GOAL_AUDIT_MS = 500.0
BULK = 10_000
WORKFLOWS = 20
CATEGORIES = 5
WRITES_PER_RUN = 10
START = datetime(2025, 3, 1)
KINDS = (
    ("write_file", "file"),
    ("send_email", "email"),
    ("http_request", "http"),
    ("run_command", "command"),
)
WORKFLOW = """\
name: {name}
category: {category}
owner: bench-owner
description: Benchmark workflow.
trigger: {{folder: /tmp/bench-in, patterns: ["*.csv"]}}
input: {{read: text, max_bytes: 100000}}
output: {{paths: [/tmp/bench-out], staging_paths: [/tmp/bench-staging]}}
steps:
  - action: write_file
    to: "{{{{ output.path }}}}/{{{{ file.name }}}}"
    content: "x"
approval: {{mode: always}}
retry: {{limit: 1, backoff_s: 1}}
notify: {{on_failure: [tray]}}
pause: {{consecutive_failures: 3}}
rollback: Delete the written file.
"""


@dataclass
class Figures:
    writes: int
    audit_events: int
    setup_s: float
    open_ms: float
    open_rows: int
    scroll_s: float
    scroll_rows: int
    approve_count: int
    approve_s: float
    approve_ok: int
    peak_rss_mb: float
    audit_open_ms: float
    audit_rows: int
    audit_page_real: bool

    def checks(self) -> list[tuple[str, float, str, str, bool]]:
        """(goal, measured value, unit, target, passed)."""
        audit_name = (
            "audit page: first rows" if self.audit_page_real else "audit page (placeholder)"
        )
        return [
            (
                f"inbox: first rows ({self.writes:,} writes)",
                self.open_ms,
                "ms",
                f"< {GOAL_OPEN_MS:g} ms",
                self.open_rows > 0 and self.open_ms < GOAL_OPEN_MS,
            ),
            (
                f"bulk approve {self.approve_count:,}",
                self.approve_s,
                "s",
                f"< {GOAL_APPROVE_S:g} s",
                self.approve_ok == self.approve_count and self.approve_s < GOAL_APPROVE_S,
            ),
            (
                "peak RSS",
                self.peak_rss_mb,
                "MB",
                f"< {GOAL_RSS_MB:g} MB",
                self.peak_rss_mb < GOAL_RSS_MB,
            ),
            (
                f"{audit_name} ({self.audit_events:,} events)",
                self.audit_open_ms,
                "ms",
                f"< {GOAL_AUDIT_MS:g} ms",
                self.audit_page_real and self.audit_rows > 0 and self.audit_open_ms < GOAL_AUDIT_MS,
            ),
        ]


# Setup (child process) -------------------------------------------------------


def fill(url: str, writes: int, audit_events: int) -> None:
    """Workflows, runs, pending writes and audit events; run in a child process."""
    import uuid

    from sophmate_desktop.console import Console
    from sophmate_desktop.store import audit
    from sophmate_desktop.store.database import open_database, write_transaction
    from sophmate_desktop.store.models import Run, Workflow, Write

    db = open_database(url)
    lead = Console(db, actor="lead")
    for i in range(WORKFLOWS):
        lead.import_workflow(WORKFLOW.format(name=f"wf-{i:02d}", category=f"cat-{i % CATEGORIES}"))
    workflows = list(
        Workflow.select(Workflow.id, Workflow.name, Workflow.category).order_by(Workflow.id)
    )
    categories = {wf.id: f"cat-{i % CATEGORIES}" for i, wf in enumerate(workflows)}
    runs = (writes + WRITES_PER_RUN - 1) // WRITES_PER_RUN
    step = timedelta(days=7) / max(writes, 1)
    with write_transaction(db):
        first_run = (Run.select(Run.id).order_by(Run.id.desc()).scalar() or 0) + 1
        rows = [
            dict(
                workflow=workflows[r % WORKFLOWS].id,
                revision=1,
                trigger_kind="file",
                trigger_path=f"/tmp/bench-in/{r}.csv",
                mode="staging",
                status="awaiting_approval",
                queued_at=START + step * r * WRITES_PER_RUN,
            )
            for r in range(runs)
        ]
        for start in range(0, len(rows), 500):
            Run.insert_many(rows[start : start + 500]).execute()
        batch = []
        for i in range(writes):
            r = i // WRITES_PER_RUN
            wf = workflows[r % WORKFLOWS]
            kind, effect = KINDS[i % len(KINDS)]
            target = f"/srv/out/{wf.name}/{i:07d}.csv"
            batch.append(
                dict(
                    run=first_run + r,
                    workflow=wf.id,
                    category=categories[wf.id],
                    seq=i % WRITES_PER_RUN + 1,
                    kind=kind,
                    effect=effect,
                    target=target,
                    summary=f"{kind} {target}",
                    preview=f"--- {target} (current)\n+++ {target} (new)\n@@ -1 +1 @@\n"
                    f"-total: {i}\n+total: {i + 1}\n",
                    payload={"path": target, "content": f"total: {i + 1}\n"},
                    customer_facing=kind == "send_email",
                    status="pending",
                    idempotency_key=f"bench-{i}-{uuid.uuid4().hex[:8]}",
                    created_at=START + step * i,
                )
            )
            if len(batch) == 500:
                Write.insert_many(batch).execute()
                batch = []
        if batch:
            Write.insert_many(batch).execute()
    done = 0
    while done < audit_events:
        count = min(10_000, audit_events - done)
        events = [
            audit.NewEvent(
                actor=("engine", "ana", "bo")[i % 3],
                action="run.started",
                subject=f"run {i}",
                category=f"cat-{i % CATEGORIES}",
                workflow=f"wf-{i % WORKFLOWS:02d}",
                run=i // 10 + 1,
                details={"seq": i},
                at=START + timedelta(seconds=i),
            )
            for i in range(done, done + count)
        ]
        with write_transaction(db):
            audit.append_many(db, events)
        done += count
    db.close()


# Measures (this process) -------------------------------------------------------


def wait_for(app, check, timeout_s: float = 60.0) -> bool:
    deadline = time.perf_counter() + timeout_s
    while not check():
        if time.perf_counter() > deadline:
            return False
        app.processEvents()
        time.sleep(0.001)
    return True


def open_inbox(app, services):
    from sophmate_desktop.ui.pages.inbox import InboxPage

    t0 = time.perf_counter()
    page = InboxPage(services)
    page.resize(1280, 800)
    page.show()
    app.processEvents()
    wait_for(app, lambda: page.model.rowCount() > 0, 10)
    return page, (time.perf_counter() - t0) * 1000


def scroll_to_end(app, page) -> float:
    t0 = time.perf_counter()
    while page.model.canFetchMore():
        before = page.model.rowCount()
        page.table.scrollToBottom()
        app.processEvents()
        if page.model.rowCount() == before:  # the view did not ask: ask as it would
            page.model.fetchMore()
    page.table.scrollToBottom()
    app.processEvents()
    return time.perf_counter() - t0


def bulk_approve(app, page, count: int) -> tuple[float, int]:
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest

    count = min(count, page.model.rowCount())
    page.table.select_rows(range(count), 0)
    app.processEvents()
    assert len(page.selected_ids()) == count
    before = page.console.inbox_count()
    QTest.mouseClick(page.decisions.approve, Qt.MouseButton.LeftButton)
    if not wait_for(app, lambda: page.confirmation is not None, 5):
        raise SystemExit("no confirmation appeared for the bulk approval")
    # An event loop that sleeps until the page says it is done, as the app's own does
    # (a polling loop would compete with the worker thread for the GIL).
    loop = QEventLoop()
    page.decision_finished.connect(loop.quit)
    QTimer.singleShot(120_000, loop.quit)
    box = page.confirmation
    t0 = time.perf_counter()
    QTest.mouseClick(box.defaultButton(), Qt.MouseButton.LeftButton)
    loop.exec()
    elapsed = time.perf_counter() - t0
    if page.busy:
        raise SystemExit("the bulk approval did not finish")
    return elapsed, before - page.console.inbox_count()


def open_audit(app, services) -> tuple[float, int, bool]:
    from PySide6.QtWidgets import QTableView

    from sophmate_desktop.ui.pages.audit import AuditPage

    t0 = time.perf_counter()
    page = AuditPage(services)
    page.resize(1280, 800)
    page.show()
    app.processEvents()
    table = page.findChild(QTableView, "auditTable")
    if table is None or table.model() is None:
        return (time.perf_counter() - t0) * 1000, 0, False
    wait_for(app, lambda: table.model().rowCount() > 0, 10)
    elapsed = (time.perf_counter() - t0) * 1000
    rows = table.model().rowCount()
    page.close()
    return elapsed, rows, True


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run(writes: int, audit_events: int, progress: bool = False) -> Figures:
    def say(text: str) -> None:
        if progress:
            print(f"  {text}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="sophmate-bench-inbox-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'inbox.sqlite3'}"
        say(f"filling {writes:,} pending writes and {audit_events:,} audit events")
        t0 = time.perf_counter()
        child = multiprocessing.get_context("spawn").Process(
            target=fill, args=(url, writes, audit_events)
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"setup failed (exit {child.exitcode})")
        setup_s = time.perf_counter() - t0

        from PySide6.QtWidgets import QApplication

        from sophmate_desktop.console import Console
        from sophmate_desktop.store.database import open_database
        from sophmate_desktop.ui.bridge import EventBridge
        from sophmate_desktop.ui.navigator import Navigator
        from sophmate_desktop.ui.pages import audit as _audit_page  # noqa: F401 (import cost)
        from sophmate_desktop.ui.pages import inbox as _inbox_page  # noqa: F401
        from sophmate_desktop.ui.services import UiServices
        from sophmate_desktop.ui.tasks import TaskRunner

        app = QApplication.instance() or QApplication([])
        db = open_database(url)
        console = Console(db, actor="ana")
        bridge = EventBridge()
        bridge.attach(console.events)
        tasks = TaskRunner(console)
        services = UiServices(console, bridge, tasks, Navigator())
        try:
            say("opening the inbox")
            page, open_ms = open_inbox(app, services)
            open_rows = page.model.rowCount()
            say("scrolling to the end")
            scroll_s = scroll_to_end(app, page)
            scroll_rows = page.model.rowCount()
            bulk = min(BULK, writes)
            say(f"approving {bulk:,}")
            approve_s, approved = bulk_approve(app, page, bulk)
            rss = peak_rss_mb()
            page.close()
            say("opening the audit page")
            audit_ms, audit_rows, audit_real = open_audit(app, services)
        finally:
            tasks.wait_done(60_000)
            bridge.detach_all()
            db.close()
    return Figures(
        writes=writes,
        audit_events=audit_events,
        setup_s=setup_s,
        open_ms=open_ms,
        open_rows=open_rows,
        scroll_s=scroll_s,
        scroll_rows=scroll_rows,
        approve_count=bulk,
        approve_s=approve_s,
        approve_ok=approved,
        peak_rss_mb=rss,
        audit_open_ms=audit_ms,
        audit_rows=audit_rows,
        audit_page_real=audit_real,
    )


def table(f: Figures) -> str:
    audit_note = "" if f.audit_page_real else "  (AuditPage is still a placeholder: no auditTable)"
    lines = [
        f"inbox benchmark: {f.writes:,} pending writes, {f.audit_events:,} audit events, "
        f"temporary SQLite (setup {f.setup_s:.1f} s, not measured)",
        "",
        f"inbox first rows             {f.open_ms:>10.1f} ms  ({f.open_rows:,} rows loaded)",
        f"scroll to the end            {f.scroll_s:>10.2f} s   ({f.scroll_rows:,} rows loaded)",
        f"bulk approve                 {f.approve_s:>10.2f} s   ({f.approve_ok:,} of "
        f"{f.approve_count:,} approved)",
        f"peak RSS                     {f.peak_rss_mb:>10.0f} MB",
        f"audit page first rows        {f.audit_open_ms:>10.1f} ms  ({f.audit_rows:,} rows)"
        + audit_note,
        "",
        f"{'goal':<44} {'measured':>12} {'target':>12}  result",
    ]
    for name, value, unit, target, ok in f.checks():
        measured = f"{value:,.0f} {unit}" if unit in ("ms", "MB") else f"{value:.2f} {unit}"
        lines.append(f"{name:<44} {measured:>12} {target:>12}  {'PASS' if ok else 'FAIL'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=100_000, help="pending writes")
    parser.add_argument("--audit-events", type=int, default=1_000_000, help="audit events")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if args.writes < 1 or args.audit_events < 0:
        parser.error("--writes must be at least 1 and --audit-events at least 0")
    figures = run(args.writes, args.audit_events, progress=not args.json)
    return report(figures, table, args.json, ("name", "value", "unit", "target", "pass"))


if __name__ == "__main__":
    sys.exit(main())
