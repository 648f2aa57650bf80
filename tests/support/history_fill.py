"""A large, realistic history written fast (raw executemany), for bench.history and the
query-plan tests: many workflows, runs spread over a year (mostly finished, some failed,
rejected, held or waiting), their writes, and ten audit events per run.

Workflows are imported through the console (their definitions must parse); runs,
writes and audit events are bulk rows. The audit events are not a valid hash chain:
the reads under test do not look at the hashes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sophmate_desktop.domain.clock import utcnow

WORKFLOWS = 60
CATEGORIES = 8
STAGING = 6  # workflows 50..55 are in staging, 56..59 in dry_run, the rest in production
DRY_RUN = 4
SPAN = timedelta(days=365)
AUDIT_PER_RUN = 10
PENDING_WRITES = 400  # the newest production runs wait for approval
HELD_RUNS = 40
WORKFLOW_YAML = """\
name: {name}
category: {category}
owner: ops-{owner}
description: History fill workflow.
trigger: {{folder: /tmp/history-in, patterns: ["*.csv"]}}
input: {{read: text, max_bytes: 100000}}
output: {{paths: [/tmp/history-out], staging_paths: [/tmp/history-staging]}}
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
RUN_COLUMNS = (
    "id, workflow_id, revision, trigger_kind, trigger_path, trigger_size, mode, status, "
    "attempt, queued_at, started_at, finished_at, error, duration_ms, bytes_read, "
    "bytes_written, actions, affected_records, cost, host, reviewed_at, created_by"
)
WRITE_COLUMNS = (
    "run_id, workflow_id, category, seq, kind, effect, target, summary, preview, payload, "
    "customer_facing, status, decided_by, decided_at, idempotency_key, created_at, "
    "applied_at, cost, attempt"
)
AUDIT_COLUMNS = (
    "at, actor, action, subject, category, workflow, run, details, reason, prev_hash, hash"
)
RUN_EVENTS = (
    "run.queued",
    "run.started",
    "run.planned",
    "write.pending",
    "write.approved",
    "write.applying",
    "write.applied",
    "run.succeeded",
)


@dataclass(frozen=True)
class Filled:
    path: Path
    runs: int
    writes: int
    audit_events: int
    now: datetime
    production_workflow: str  # one of each, for the per-workflow reads
    staging_workflow: str


def stage_of(index: int) -> str:
    if index >= WORKFLOWS - DRY_RUN:
        return "dry_run"
    if index >= WORKFLOWS - DRY_RUN - STAGING:
        return "staging"
    return "production"


def _ts(at: datetime) -> str:
    return at.isoformat(sep=" ")


def _workflows(path: Path) -> list[tuple[int, str, str, str]]:
    """Import the workflows; (id, name, category, stage) each, stages set as filled."""
    from sophmate_desktop.console import Console
    from sophmate_desktop.store.database import open_database

    db = open_database(f"sqlite:///{path}")
    console = Console(db, actor="lead")
    for i in range(WORKFLOWS):
        name, category = f"wf-{i:02d}", f"cat-{i % CATEGORIES}"
        console.import_workflow(WORKFLOW_YAML.format(name=name, category=category, owner=i % 7))
    db.close()
    con = sqlite3.connect(path)
    rows = con.execute(
        "SELECT w.id, w.name, c.name FROM workflow w JOIN category c ON c.id = w.category_id"
        " ORDER BY w.name"
    ).fetchall()
    out = []
    with con:
        for i, (wf_id, name, category) in enumerate(rows):
            stage = stage_of(i)
            con.execute(
                "UPDATE workflow SET stage = ?, enabled = ? WHERE id = ?",
                (stage, stage == "production", wf_id),
            )
            out.append((wf_id, name, category, stage))
    con.close()
    return out


def _status(i: int, n: int, mode: str) -> str:
    """Most runs succeed; the newest are still moving; a few fail or are rejected."""
    newest = n - i
    if newest <= HELD_RUNS and mode == "production":
        return "held"
    if newest <= HELD_RUNS + 20:
        return ("queued", "running")[newest % 2]
    if newest <= HELD_RUNS + 20 + PENDING_WRITES and mode == "production":
        return "awaiting_approval"
    if i % 25 == 3:
        return "failed"
    if i % 50 == 7 and mode == "production":
        return "rejected"
    return "succeeded"


WRITE_STATUS = {
    "succeeded": "applied",
    "failed": "failed",
    "rejected": "rejected",
    "awaiting_approval": "pending",
}


def _rows(
    n: int, workflows: list[tuple[int, str, str, str]], now: datetime
) -> Iterator[tuple[tuple, tuple | None, list[tuple]]]:
    """(run, write or None, audit events) per run, oldest first."""
    step = SPAN / n
    start = now - SPAN
    # Each workflow's last review: production ones within the last month (monthly
    # reviews), the others within the last few days.
    last_review = {
        wf[0]: now - timedelta(days=(3 + k % 27) if wf[3] == "production" else (1 + k % 3))
        for k, wf in enumerate(workflows)
    }
    zero = "0" * 64
    for i in range(n):
        wf_id, name, category, stage = workflows[i % len(workflows)]
        queued = start + step * i
        # A production workflow ran in dry run and staging in its first weeks.
        early = queued < start + timedelta(days=20)
        mode = ("dry_run", "staging")[i % 2] if early and stage == "production" else stage
        status = _status(i, n, mode)
        finished = status in ("succeeded", "failed", "rejected")
        started = queued + timedelta(milliseconds=5) if status != "queued" else None
        end = queued + timedelta(milliseconds=40 + i % 200) if finished else None
        reviewed = _ts(end + timedelta(hours=1)) if finished and end < last_review[wf_id] else None
        run_id = i + 1
        run = (
            run_id,
            wf_id,
            1,
            "file",
            f"/tmp/history-in/{name}/{i}.csv",
            1000 + i % 5000,
            mode,
            status,
            1,
            _ts(queued),
            started and _ts(started),
            end and _ts(end),
            "step 1 failed: the target folder is read-only" if status == "failed" else None,
            40 + i % 200 if finished else None,
            1000 + i % 5000,
            0 if mode == "dry_run" else 900,
            1,
            i % 30,
            0.0,
            "host-1",
            reviewed,
            "engine",
        )
        write = None
        if status in WRITE_STATUS or status == "held":
            w_status = "planned" if mode == "dry_run" else WRITE_STATUS.get(status, "planned")
            if status == "awaiting_approval" and i % 20 == 0:
                w_status = "interrupted"
            target = f"/tmp/history-out/{name}/{i}.csv"
            decided = w_status in ("applied", "rejected", "failed")
            write = (
                run_id,
                wf_id,
                category,
                1,
                "write_file",
                "file",
                target,
                f"write {target}",
                f"--- {target}\n+++ {target}\n@@ -0,0 +1 @@\n+x\n",
                '{"content":"x"}',
                False,
                w_status,
                "ana" if decided else None,
                end and _ts(end),
                f"history-{run_id}-1",
                _ts(queued),
                _ts(end) if w_status == "applied" else None,
                0.0,
                1,
            )
        at = queued
        events = []
        for k in range(AUDIT_PER_RUN):
            action = RUN_EVENTS[k % len(RUN_EVENTS)]
            actor = "ana" if action == "write.approved" else "engine"
            events.append(
                (
                    at.isoformat(timespec="microseconds"),
                    actor,
                    action,
                    f"run {run_id}",
                    category,
                    name,
                    run_id,
                    "{}",
                    None,
                    zero,
                    zero,
                )
            )
            at += timedelta(microseconds=300)
        yield run, write, events


def fill(path: Path, runs: int, *, now: datetime | None = None, batch: int = 20_000) -> Filled:
    """A new SQLite database at `path` with `runs` runs (and their writes and events)."""
    now = now or utcnow()
    workflows = _workflows(path)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -200000")
    writes = events_n = 0
    run_rows: list[tuple] = []
    write_rows: list[tuple] = []
    event_rows: list[tuple] = []

    def flush() -> None:
        with con:
            con.executemany(
                f"INSERT INTO run ({RUN_COLUMNS}) VALUES ({_marks(RUN_COLUMNS)})", run_rows
            )
            con.executemany(
                f'INSERT INTO "write" ({WRITE_COLUMNS}) VALUES ({_marks(WRITE_COLUMNS)})',
                write_rows,
            )
            con.executemany(
                f"INSERT INTO audit_event ({AUDIT_COLUMNS}) VALUES ({_marks(AUDIT_COLUMNS)})",
                event_rows,
            )
        run_rows.clear()
        write_rows.clear()
        event_rows.clear()

    for run, write, events in _rows(runs, workflows, now):
        run_rows.append(run)
        if write is not None:
            write_rows.append(write)
            writes += 1
        event_rows.extend(events)
        events_n += len(events)
        if len(run_rows) >= batch:
            flush()
    flush()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    production = next(wf[1] for wf in workflows if wf[3] == "production")
    staging = next(wf[1] for wf in workflows if wf[3] == "staging")
    return Filled(path, runs, writes, events_n, now, production, staging)


def _marks(columns: str) -> str:
    return ", ".join("?" * len(columns.split(",")))
