"""The engine applies approved writes in batches on parallel appliers; a database that
another process locks while outcomes are recorded delays them, never loses them: the
writes show "applied, recording..." meanwhile and end applied exactly once."""

from __future__ import annotations

from pathlib import Path

from bench.fault_trials import applies
from sophmate_desktop.console import Console
from sophmate_desktop.engine.queues import WriteQueue, target_key
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import Write


def test_writes_to_one_target_stay_in_one_lane_in_order():
    q = WriteQueue(lanes=4, batch=10)
    key = target_key("write_file", "file", "/tmp/a.txt")
    q.enqueue([(1, key), (2, key), (3, None), (2, key)])
    lane = next(i for i in range(4) if q._lanes[i])
    assert q.take(lane) == [1, 2]
    assert q.take((lane + 1) % 4) == [3]  # no shared target: any applier


def test_a_locked_database_during_recording_loses_no_outcome():
    held, lost, doubled, interrupted, seen = applies._one(1.5)
    assert (held, lost, doubled, interrupted) == (applies.WRITES, 0, 0, 0)
    assert seen


def test_the_engine_applies_a_run_of_approved_file_writes(tmp_path: Path):
    from bench.apply import _correct, _pending_run

    db = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    out = tmp_path / "out"
    out.mkdir()
    ids = _pending_run(db, out, 150)
    engine = Engine(db, watch=False, appliers=3, apply_batch=16)
    engine.start()
    ana = Console(db, actor="ana")
    ana.events.subscribe(engine.wake)
    try:
        assert all(r.ok for r in ana.approve(ids))
        run_id = Write.get_by_id(ids[0]).run_id
        assert engine.wait_for_run(run_id, until=("succeeded", "failed")) == "succeeded"
    finally:
        engine.stop()
    with db.connection_context():
        assert _correct(ids, out)
    db.close()
