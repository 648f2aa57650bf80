"""Batches of applies: one claim and one recording per batch, settled once; the
recording journal's replay records what a dead engine knew instead of interrupting it.
On SQLite and PostgreSQL."""

from __future__ import annotations

from sophmate_desktop.store import outcome_journal
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import AuditEvent, Run, Workflow, Write
from sophmate_desktop.store.outcome_journal import Outcome
from sophmate_desktop.store.transitions import applying, recovery
from tests.support.run_flow import WORKFLOW, Flow, file_write


def approved_run(db, make_console, n: int) -> tuple[int, list[int]]:
    make_console("lead").import_workflow(WORKFLOW)
    with write_transaction(db):  # arranged: a staged, enabled workflow
        Workflow.update(stage="staging", enabled=True).execute()
    flow = Flow(db, make_console("ana"))
    run_id = flow.offer()
    flow.claim(run_id)
    flow.plan(run_id, [file_write(i) for i in range(n)])
    ids = flow.writes(run_id)
    assert all(r.ok for r in flow.console.approve(ids))
    return run_id, ids


def test_a_batch_is_claimed_recorded_and_its_run_settled_once(db, make_console):
    run_id, ids = approved_run(db, make_console, 5)
    claimed, refused = applying.begin_applies(db, ids, "host:1")
    assert [w.id for w in claimed] == ids and refused == {}
    assert Run.get_by_id(run_id).status == "applying"
    again, why = applying.begin_applies(db, ids, "host:2")
    assert again == [] and set(why) == set(ids)  # claimed exactly once
    outcomes = [Outcome(i, bytes_written=3) for i in ids[:4]] + [Outcome(ids[4], error="disk")]
    statuses = applying.finish_applies(db, outcomes)
    assert set(statuses.values()) == {"applying"}  # the failed one waits for its retry
    statuses_now = [w.status for w in Write.select().order_by(Write.id)]
    assert statuses_now == ["applied"] * 4 + ["approved"]
    assert Run.get_by_id(run_id).bytes_written == 12
    applied = AuditEvent.select().where(AuditEvent.action == "write.applied").count()
    assert applied == 4


def test_a_write_a_pause_reached_before_it_started_goes_back_to_approved(db, make_console):
    run_id, ids = approved_run(db, make_console, 2)
    applying.begin_applies(db, ids, "host:1")
    applying.finish_applies(db, [Outcome(ids[0]), Outcome(ids[1], released="paused")])
    assert [w.status for w in Write.select().order_by(Write.id)] == ["applied", "approved"]
    assert Run.get_by_id(run_id).status == "applying"


def test_the_journal_of_a_dead_engine_is_recorded_not_interrupted(
    db, make_console, tmp_path, monkeypatch
):
    monkeypatch.setenv(outcome_journal.JOURNAL_ENV, str(tmp_path / "journal"))
    run_id, ids = approved_run(db, make_console, 3)
    dead = "gone-host:1"
    applying.begin_applies(db, ids, dead)
    folder = outcome_journal.journal_dir_of(db)
    outcome_journal.write_entry(folder, dead, [Outcome(i, bytes_written=1) for i in ids])
    assert set(outcome_journal.recording(db)) == set(ids)
    assert applying.replay_journal(db, lambda claimer: claimer == dead) == 3
    assert {w.status for w in Write.select()} == {"applied"}
    assert Run.get_by_id(run_id).status == "succeeded"
    assert outcome_journal.read_entries(folder) == []
    assert recovery.recover(db, "gone-host:2")["writes_interrupted"] == 0
