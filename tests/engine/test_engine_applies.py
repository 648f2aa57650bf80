"""The engine applies approved writes in batches on parallel appliers; a database that
another process locks while outcomes are recorded delays them, never loses them: the
writes show "applied, recording..." meanwhile and end applied exactly once."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from bench.fault_trials import applies
from sophmate_desktop.console import Console
from sophmate_desktop.domain.enums import EffectKind
from sophmate_desktop.engine.actions.base import PlannedWrite
from sophmate_desktop.engine.queues import WriteQueue, target_key
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.store import workflows as store_workflows
from sophmate_desktop.store.database import open_database, write_transaction
from sophmate_desktop.store.models import Workflow, Write
from sophmate_desktop.store.transitions import intake

REPO = Path(__file__).resolve().parents[2]


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


def test_one_batch_applies_each_files_writes_in_order_and_others_side_by_side(tmp_path: Path):
    from bench.apply import HOST, WORKFLOW

    db = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    out = tmp_path / "out"
    out.mkdir()
    Console(db, actor="lead").import_workflow(WORKFLOW.format(out=out))
    with write_transaction(db):
        Workflow.update(stage="staging", enabled=True).execute()
    [(run_id, _)] = intake.record_offers(
        db, [intake.Offer("bulk-apply", "manual", None, None, None, None)], HOST
    )
    assert intake.claim_run(db, run_id, HOST)
    planned = []
    for version in range(4):  # interleaved: a0 b0 c0 a1 b1 c1 ...
        for name in "abc":
            path, content = out / f"{name}.txt", f"{name} version {version}\n"
            sha = hashlib.sha256(content.encode()).hexdigest()
            payload = {"path": str(path), "content": content, "sha256": sha, "scope": [str(out)]}
            write = PlannedWrite("write_file", EffectKind.FILE, str(path), "w", "+", payload)
            planned.append(write)
    wf = store_workflows.load_workflow(Workflow.get(Workflow.name == "bulk-apply"))
    intake.store_plan(db, run_id, wf, planned, 0, 0)
    ids = [w.id for w in Write.select(Write.id).where(Write.run == run_id).order_by(Write.seq)]
    engine = Engine(db, watch=False, appliers=1, apply_batch=64)  # all twelve in one batch
    engine.start()
    ana = Console(db, actor="ana")
    ana.events.subscribe(engine.wake)
    try:
        assert all(r.ok for r in ana.approve(ids))
        assert engine.wait_for_run(run_id, until=("succeeded", "failed")) == "succeeded"
    finally:
        engine.stop()
    with db.connection_context():
        writes = list(Write.select().where(Write.run == run_id).order_by(Write.seq))
        for name in "abc":
            assert (out / f"{name}.txt").read_text() == f"{name} version 3\n"
            mine = [w for w in writes if w.target == str(out / f"{name}.txt")]
            # each write replaced the one before it: the undo keeps the previous version
            previous = [w.undo["previous"] for w in mine]
            assert previous == [None] + [f"{name} version {v}\n" for v in range(3)]
        assert {w.status for w in writes} == {"applied"}
    db.close()


def test_an_idle_engine_sees_an_approval_made_in_another_process_before_its_tick(
    tmp_path: Path,
):
    from bench.apply import _pending_run
    from tests.support.engine import wait_until

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    db = open_database(url)
    out = tmp_path / "out"
    out.mkdir()
    ids = _pending_run(db, out, 3)
    # Idle, the monitor ticks every 60 s here; only following SQLite's data_version
    # (every FOLLOW_S) can see the CLI's approval within the wait below.
    engine = Engine(db, watch=False, tick_s=0.05, idle_tick_s=60.0)
    engine.start()
    try:
        engine.wait_idle(10)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "PYTHONPATH": str(REPO),
            "PYTHON_KEYRING_BACKEND": "tests.support.inmemory_keyring.InMemoryKeyring",
        }
        argv = [sys.executable, "-m", "sophmate_desktop", "--db", url, "inbox", "approve"]
        done = subprocess.run(
            argv + [str(i) for i in ids], cwd=REPO, env=env, capture_output=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        wait_until(
            lambda: {w.status for w in Write.select().where(Write.id.in_(ids))} == {"applied"},
            20,
            "the approved writes applied",
        )
    finally:
        engine.stop()
    db.close()
