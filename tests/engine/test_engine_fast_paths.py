"""The engine's fast paths keep their guarantees: a run started in the transaction
that records it, killed commands ended in one batch, delayed offers counted as work,
retries picked up by an idle monitor, raw SQL that writes what peewee would."""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
from pathlib import Path

from sophmate_desktop.domain import policy
from sophmate_desktop.domain.enums import SwitchScope
from sophmate_desktop.domain.events import Event
from sophmate_desktop.engine.service import SAFETY_FULL_S
from sophmate_desktop.store import workflows as store_workflows
from sophmate_desktop.store.models import (
    AuditEvent,
    Category,
    LedgerEntry,
    Notification,
    Run,
    Switch,
    Write,
)
from sophmate_desktop.store.transitions import intake as records
from sophmate_desktop.store.transitions import outcomes
from sophmate_desktop.store.transitions.intake import Offer
from sophmate_desktop.store.transitions.killed import finish_killed
from tests.support.engine import SLEEPER, pending_run, staging_workflow, wait_until, workflow_doc

HOST = "test-host:1"


def trail(run_id: int) -> list[str]:
    return [
        a
        for (a,) in AuditEvent.select(AuditEvent.action)
        .where(AuditEvent.run == run_id)
        .order_by(AuditEvent.id)
        .tuples()
    ]


NO_FILE_STEP = """\
  - action: write_file
    to: "{{ output.path }}/run-{{ run.id }}.txt"
    content: "done"
"""


def manual_workflow(console, tmp_path: Path, name: str = "manual", **kw) -> None:
    out = tmp_path / f"out-{name}"
    out.mkdir(exist_ok=True)
    kw.setdefault("steps", NO_FILE_STEP)
    console.import_workflow(workflow_doc(name, None, out, read="none", **kw))


def test_a_free_worker_gets_a_run_started_where_it_was_recorded(
    sqlite_db, sconsole, make_engine, tmp_path
):
    manual_workflow(sconsole, tmp_path)
    engine = make_engine(sqlite_db, sconsole)
    engine.wait_idle(10)
    wait_until(lambda: engine.free_workers() == 2, 10, "both workers to wait for work")
    seen: list[Event] = []
    engine.events.subscribe(seen.append)
    run_id = engine.run_now("manual", mode="dry_run")
    assert engine.wait_for_run(run_id, 20) == "succeeded"
    run = Run.get_by_id(run_id)
    # one transaction: the same clock reading, queued then started in the trail
    assert run.started_at == run.queued_at and run.claimed_by == engine.host
    assert trail(run_id) == ["run.queued", "run.started", "run.planned", "run.succeeded"]
    started = [e for e in seen if e.kind == "run.started" and e.data["run"] == run_id]
    assert len(started) == 1


def test_started_runs_are_in_flight_before_the_commit(db, make_console, tmp_path):
    manual_workflow(make_console(), tmp_path)
    seen_by_another: list[int] = []

    def before_commit(started: list[records.Recorded]) -> None:
        def look() -> None:
            with db.connection_context():
                seen_by_another.append(Run.select().count())

        reader = threading.Thread(target=look)
        reader.start()
        reader.join()
        assert [r.status for r in started] == ["running"]

    offers = [Offer("manual", "manual", mode="dry_run") for _ in range(3)]
    created = records.record_batch(db, offers, HOST, start=1, on_started=before_commit)
    assert [r.status for r in created] == ["running", "queued", "queued"]
    assert seen_by_another == [0]  # the callback ran before anyone could see the runs
    first, second, _ = (Run.get_by_id(r.run_id) for r in created)
    assert (first.status, first.claimed_by) == ("running", HOST)
    assert (second.status, second.claimed_by, second.started_at) == ("queued", None, None)
    assert trail(first.id) == ["run.queued", "run.started"]
    assert trail(second.id) == ["run.queued"]


def test_a_paused_category_holds_even_a_run_a_worker_could_take(db, make_console, tmp_path):
    console = make_console()
    manual_workflow(console, tmp_path)
    console.pause_category("finance", "month end")
    [held] = records.record_batch(db, [Offer("manual", "manual")], HOST, start=2)
    assert held.status == "held"
    assert Run.get_by_id(held.run_id).started_at is None


def test_intake_rows_are_what_peewee_would_write(db, make_console, tmp_path):
    manual_workflow(make_console(), tmp_path)
    path = tmp_path / "in.txt"
    offer = Offer("manual", "file", path, 12, 1_700_000_000_123_456_789, "ab" * 32, "ana")
    [recorded] = records.record_batch(db, [offer, offer], HOST)
    run = Run.get_by_id(recorded.run_id)
    # the same run written by peewee reads back the same, defaults included
    ref = Run.get_by_id(
        Run.create(
            workflow=run.workflow_id,
            revision=run.revision,
            trigger_kind="file",
            trigger_path=str(path),
            trigger_size=12,
            trigger_mtime=1_700_000_000_123_456_789 / 1e9,
            trigger_hash="ab" * 32,
            mode="dry_run",
            status="queued",
            queued_at=run.queued_at,
            host=HOST,
            created_by="ana",
        ).id
    )
    fields = [f.name for f in Run._meta.sorted_fields if f.name != "id"]
    assert [getattr(run, f) for f in fields] == [getattr(ref, f) for f in fields]
    assert run.queued_at.year > 2000 and (run.attempt, run.cost) == (1, 0.0)
    [entry] = LedgerEntry.select()
    assert (entry.run_id, entry.size, entry.mtime_ns) == (run.id, 12, 1_700_000_000_123_456_789)
    # the same version again records nothing
    assert records.record_batch(db, [offer], HOST) == []


def test_switch_states_reads_switches_and_categories(db, make_console, tmp_path):
    console = make_console()
    manual_workflow(console, tmp_path)
    assert store_workflows.switch_states(db) == []
    console.pause_category("finance", "audit")
    console.pause_effect("command", "incident")
    states = sorted(store_workflows.switch_states(db), key=lambda s: s.name)
    expected = sorted(
        [
            policy.SwitchState(
                SwitchScope(s.scope), s.name, True, s.paused_by, s.paused_reason, s.paused_at
            )
            for s in Switch.select().where(Switch.paused)
        ]
        + [
            policy.SwitchState(
                SwitchScope.CATEGORY, c.name, True, c.paused_by, c.paused_reason, c.paused_at
            )
            for c in Category.select().where(Category.paused)
        ],
        key=lambda s: s.name,
    )
    assert states == expected and len(states) == 2
    assert all(s.at is not None and s.at.year > 2000 for s in states)


SLEEPERS = "".join(
    f"""\
  - action: run_command
    argv: {json.dumps([sys.executable, "-c", "import time; time.sleep(30)"])}
    timeout_s: 60
"""
    for _ in range(4)
)


def test_a_pause_ends_every_killed_command_in_one_batch(sqlite_db, sconsole, make_engine, tmp_path):
    engine = make_engine(sqlite_db, sconsole, appliers=4)
    staging_workflow(sconsole, engine, tmp_path, "sleepers", SLEEPERS)
    ids = pending_run(sconsole, engine, tmp_path, "sleepers", "go")
    finished: list[tuple[Event, str]] = []

    def on_event(event: Event) -> None:
        if event.kind == "write.finished":
            finished.append((event, threading.current_thread().name))

    engine.events.subscribe(on_event)
    assert all(r.ok for r in sconsole.approve(ids))
    procs = wait_until(
        lambda: (
            (p := [p for i in engine.inflight.snapshot() if i.kind == "write" for p in i.processes])
            and len(p) == 4
            and p
        ),
        20,
        "four commands running",
    )
    sconsole.pause_category("finance", "stop them")
    wait_until(
        lambda: not Write.select().where(Write.status == "applying").exists(), 5, "the batch"
    )
    assert all(p.poll() is not None and p.returncode < 0 for p in procs)
    engine.wait_idle(20)
    writes = list(Write.select().where(Write.id.in_(ids)))
    assert {w.status for w in writes} == {"failed"}
    assert all(w.error.startswith("killed: category finance is paused") for w in writes)
    run_id = writes[0].run_id
    assert Run.get_by_id(run_id).status == "cancelled"
    assert not Notification.select().where(Notification.kind == "run_failed").exists()
    events = list(
        AuditEvent.select(AuditEvent.id, AuditEvent.action, AuditEvent.subject)
        .where(AuditEvent.run == run_id, AuditEvent.action.in_(["write.failed", "run.cancelled"]))
        .order_by(AuditEvent.id)
    )
    # one append: the four writes and the run, back to back, each exactly once
    assert [e.action for e in events] == ["write.failed"] * 4 + ["run.cancelled"]
    assert [e.id for e in events] == list(range(events[0].id, events[0].id + 5))
    assert sorted(e.subject for e in events[:4]) == sorted(f"write {i}" for i in ids)
    # the monitor that killed them recorded them; the applier threads did not again
    assert sorted(e.data["write"] for e, _ in finished) == sorted(ids)
    assert {thread for _, thread in finished} == {"sophmate-monitor"}


def test_finishing_a_write_twice_changes_nothing(sqlite_db, sconsole, make_engine, tmp_path):
    engine = make_engine(sqlite_db, sconsole)
    staging_workflow(sconsole, engine, tmp_path, "twice", SLEEPER)
    [write_id] = pending_run(sconsole, engine, tmp_path, "twice", "once")
    engine.stop()
    sconsole.approve([write_id])
    write, why = outcomes.begin_apply(sqlite_db, write_id, HOST)
    assert write is not None, why
    done = finish_killed(sqlite_db, {write_id: "killed: test"})
    assert [(w, s) for w, _, s in done] == [(write_id, "cancelled")]
    before = AuditEvent.select().count()
    assert outcomes.finish_apply(sqlite_db, write_id, error="late") == "cancelled"
    assert finish_killed(sqlite_db, {write_id: "killed: again"}) == []
    assert AuditEvent.select().count() == before
    assert Write.get_by_id(write_id).error == "killed: test"


def test_a_batch_leaves_out_commands_not_known_dead(sqlite_db, sconsole, make_engine, tmp_path):
    engine = make_engine(sqlite_db, sconsole)
    staging_workflow(sconsole, engine, tmp_path, "unsure", SLEEPERS)
    ids = pending_run(sconsole, engine, tmp_path, "unsure", "x")
    engine.stop()
    sconsole.approve(ids)
    for write_id in ids:
        assert outcomes.begin_apply(sqlite_db, write_id, HOST)[0] is not None
    done = finish_killed(sqlite_db, {i: "killed: test" for i in ids}, confirm=lambda: set(ids[:2]))
    assert sorted(w for w, _, _ in done) == ids[:2]
    statuses = {w.id: w.status for w in Write.select().where(Write.id.in_(ids))}
    assert statuses == {ids[0]: "failed", ids[1]: "failed", ids[2]: "applying", ids[3]: "applying"}
    assert AuditEvent.select().where(AuditEvent.action == "write.failed").count() == 2


def test_wait_idle_waits_for_a_file_it_will_look_at_again(
    sqlite_db, sconsole, make_engine, watched_folder, tmp_path
):
    (tmp_path / "out").mkdir()
    doc = workflow_doc("young", watched_folder, tmp_path / "out", settle_ms=2000)
    sconsole.import_workflow(doc)
    sconsole.enable_workflow("young")
    (watched_folder / "fresh.txt").write_text("just written")
    # the start-up scan finds a file younger than settle_ms: it is offered again later
    engine = make_engine(sqlite_db, sconsole)
    wait_until(lambda: engine.triggers.later.pending(), 5, "the delayed offer")
    assert not engine.triggers.idle()
    engine.wait_idle(20)
    assert Run.select().where(Run.trigger_path == str(watched_folder / "fresh.txt")).count() == 1


FAILING = """\
  - action: write_file
    to: "/nowhere/outside/the/scope.txt"
    content: "x"
"""


def test_an_idle_monitor_picks_up_a_retry_when_its_backoff_ends(
    sqlite_db, sconsole, make_engine, tmp_path
):
    out = tmp_path / "out"
    out.mkdir()
    doc = workflow_doc("flaky", None, out, steps=FAILING, read="none", retry=1, pause=10)
    sconsole.import_workflow(doc.replace("backoff_s: 0", "backoff_s: 1"))
    engine = make_engine(sqlite_db, sconsole, tick_s=0.05, idle_tick_s=0.05)
    run_id = engine.run_now("flaky", mode="dry_run")
    wait_until(lambda: Run.get_by_id(run_id).attempt == 2, 10, "the retry to be scheduled")
    due = Run.get_by_id(run_id).next_attempt_at
    # No commit told the monitor: it looked when the backoff ended, not at its next
    # safety look, which is further off than this whole wait. (How soon after the
    # backoff ended: python -m bench.responsiveness.)
    assert SAFETY_FULL_S > 10
    assert engine.wait_for_run(run_id, 10, until=("failed",)) == "failed"
    assert Run.get_by_id(run_id).started_at >= due  # not before the backoff ended


def test_the_monitor_ticks_slower_when_idle(sqlite_db, sconsole, make_engine, tmp_path):
    engine = make_engine(sqlite_db, sconsole, tick_s=0.05, idle_tick_s=0.4)
    engine.wait_idle(10)
    ticks: list[float] = []
    original = engine.triggers.tick

    def counting() -> None:
        ticks.append(time.monotonic())
        original()

    engine.triggers.tick = counting
    wait_until(lambda: len(ticks) >= 5, 10, "five ticks")
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    # A commit by another connection brings one look forward (idle, the monitor follows
    # SQLite's data_version): the start-up's last commits may; nothing commits after.
    assert sorted(gaps)[1] > 0.3, gaps
