"""No lost file: an offer that cannot be recorded takes no other with it, undecodable
names and links outside the folder are refused and reported, a busy database is
waited for, `settle: closed` waits for the writer, and the periodic safety scan finds
what the events did not bring. Real engines, real observers, real folders."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.store.models import AuditEvent, LedgerEntry, Notification, Run, Write
from tests.support.engine import wait_until, workflow_doc
from tests.support.groups import INOTIFY_QUEUE

BAD_NAME = b"bad\xff.txt"


def file_runs() -> list[Run]:
    return list(Run.select().where(Run.trigger_kind == "file").order_by(Run.id))


def by_path() -> dict[str, list[Run]]:
    out: dict[str, list[Run]] = {}
    for run in file_runs():
        out.setdefault(run.trigger_path, []).append(run)
    return out


def import_enabled(console, doc: str, name: str = "intake") -> None:
    console.import_workflow(doc)
    console.enable_workflow(name)


def with_trigger(doc: str, **extra) -> str:
    """The workflow file with keys added to its (JSON flow) trigger mapping."""
    head, _, rest = doc.partition("trigger: ")
    trigger, _, tail = rest.partition("\n")
    mapping = json.loads(trigger)
    mapping.update(extra)
    return f"{head}trigger: {json.dumps(mapping)}\n{tail}"


def test_undecodable_name_is_reported_once_and_the_others_all_run(
    sqlite_db, sconsole, make_engine, watched_folder, tmp_path
):
    good = [watched_folder / f"good-{i:03}.txt" for i in range(50)]
    for p in good:
        p.write_text(p.name)
    bad = os.path.join(os.fsencode(watched_folder), BAD_NAME)
    with open(bad, "wb") as f:
        f.write(b"bytes")
    import_enabled(sconsole, workflow_doc("intake", watched_folder, tmp_path / "out"))
    engine = make_engine(sqlite_db, sconsole)
    wait_until(lambda: len(file_runs()) >= 51, 30, "51 runs")
    engine.wait_idle(60)
    runs = by_path()
    assert all(len(runs[str(p)]) == 1 and runs[str(p)][0].status == "succeeded" for p in good)
    shown = str(watched_folder / "bad\\xff.txt")  # backslash escapes, storable text
    [refused] = runs[shown]
    assert refused.status == "failed"
    assert "bad\\xff.txt is not valid UTF-8" in refused.error
    assert Write.select().where(Write.run == refused.id).count() == 0  # never run
    notice = Notification.get(Notification.kind == "file_refused")
    assert "bad\\xff.txt" in notice.body
    failed = AuditEvent.get(AuditEvent.run == refused.id, AuditEvent.action == "run.failed")
    assert "not valid UTF-8" in failed.reason
    engine.stop()
    # a restart's reconciliation finds the same version in the ledger: no second report
    engine = make_engine(sqlite_db, sconsole)
    engine.wait_idle(30)
    assert len(file_runs()) == 51
    assert LedgerEntry.select().where(LedgerEntry.path == shown).count() == 1


def test_manual_run_of_an_undecodable_name_says_so(sqlite_db, sconsole, make_engine, tmp_path):
    sconsole.import_workflow(workflow_doc("manual", None, tmp_path / "out"))
    engine = make_engine(sqlite_db, sconsole, watch=False)
    bad = os.path.join(os.fsencode(tmp_path), BAD_NAME)
    Path(os.fsdecode(bad)).write_text("x")
    with pytest.raises(BadInput, match=r"bad\\xff\.txt is not valid UTF-8"):
        engine.run_now("manual", Path(os.fsdecode(bad)), mode="dry_run")
    assert Run.select().count() == 0


def test_busy_database_is_waited_for_not_dropped(
    sqlite_db, sconsole, make_engine, watched_folder, tmp_path, sqlite_url
):
    import_enabled(sconsole, workflow_doc("intake", watched_folder, tmp_path / "out"))
    engine = make_engine(sqlite_db, sconsole)
    engine.wait_idle(30)
    blocker = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another writer, longer than the busy timeout
        for i in range(20):
            (watched_folder / f"f{i:02}.txt").write_text(str(i))
        # the intake tries, waits the busy timeout (10 s), fails "locked" and retries
        wait_until(lambda: engine.triggers.later.pending() > 0, 30, "a retry scheduled")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    wait_until(lambda: len(file_runs()) >= 20, 30, "20 runs")
    engine.wait_idle(60)
    runs = by_path()
    assert sorted(runs) == sorted(str(watched_folder / f"f{i:02}.txt") for i in range(20))
    assert all(len(r) == 1 for r in runs.values())


def test_link_outside_the_folder_is_refused_unless_allowed(
    sqlite_db, sconsole, make_engine, watched_folder, tmp_path
):
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("not for this workflow")
    (watched_folder / "link.txt").symlink_to(secret)
    linked_dir = watched_folder / "sub"
    linked_dir.symlink_to(secret.parent)
    inside = watched_folder / "real.txt"
    inside.write_text("fine")
    (watched_folder / "inner-link.txt").symlink_to(inside)  # resolves inside: runs
    import_enabled(sconsole, workflow_doc("intake", watched_folder, tmp_path / "out"))
    engine = make_engine(sqlite_db, sconsole)
    wait_until(lambda: len(file_runs()) >= 3, 30, "3 runs")
    engine.wait_idle(30)
    runs = by_path()
    [link] = runs[str(watched_folder / "link.txt")]
    assert link.status == "failed"
    assert "resolves outside the watched folder" in link.error
    assert str(secret) in link.error
    assert Write.select().where(Write.run == link.id).count() == 0  # never read nor copied
    assert runs[str(inside)][0].status == "succeeded"
    assert runs[str(watched_folder / "inner-link.txt")][0].status == "succeeded"
    assert Notification.select().where(Notification.kind == "file_refused").count() == 1


def test_follow_links_outside_allows_it_and_saving_it_is_audited(
    sqlite_db, sconsole, make_engine, watched_folder, tmp_path
):
    target = tmp_path / "outside.txt"
    target.write_text("shared file")
    (watched_folder / "link.txt").symlink_to(target)
    doc = with_trigger(
        workflow_doc("intake", watched_folder, tmp_path / "out"), follow_links_outside=True
    )
    import_enabled(sconsole, doc)
    imported = AuditEvent.get(AuditEvent.action == "workflow.imported")
    assert imported.details["follow_links_outside"] is True
    enabled = AuditEvent.get(AuditEvent.action == "workflow.enabled")
    assert enabled.details["follow_links_outside"] is True
    engine = make_engine(sqlite_db, sconsole)
    wait_until(lambda: len(file_runs()) >= 1, 30, "a run")
    engine.wait_idle(30)
    [run] = file_runs()
    assert run.status == "succeeded"
    [write] = Write.select().where(Write.run == run.id)
    assert write.payload["content"] == "shared file"


WRITER = """\
import sys, time
path, pause = sys.argv[1], float(sys.argv[2])
with open(path, "w") as f:
    f.write("first half;")
    f.flush()
    time.sleep(pause)
    f.write("second half")
"""


def test_settle_closed_waits_for_a_writer_that_pauses(
    sqlite_db, sconsole, make_engine, watched_folder, tmp_path
):
    doc = with_trigger(
        workflow_doc("intake", watched_folder, tmp_path / "out", settle_ms=100),
        settle="closed",
    )
    import_enabled(sconsole, doc)
    engine = make_engine(sqlite_db, sconsole)
    engine.wait_idle(30)
    target = watched_folder / "slow.txt"
    # pauses 15x settle_ms between its writes, then closes
    subprocess.run([sys.executable, "-c", WRITER, str(target), "1.5"], check=True, timeout=30)
    wait_until(lambda: len(file_runs()) >= 1, 30, "a run")
    engine.wait_idle(30)
    [run] = file_runs()
    [write] = Write.select().where(Write.run == run.id)
    assert write.payload["content"] == "first half;second half"


def test_settle_closed_is_refused_with_polling(sconsole, tmp_path):
    doc = with_trigger(
        workflow_doc("intake", tmp_path, tmp_path / "out"), settle="closed", polling=True
    )
    with pytest.raises(BadInput, match=r"trigger\.settle.*polling watcher cannot see"):
        sconsole.import_workflow(doc)


def test_safety_scan_finds_a_file_the_events_did_not_bring(
    sqlite_db, sconsole, make_engine, watched_folder, tmp_path
):
    doc = with_trigger(
        workflow_doc("intake", watched_folder, tmp_path / "out"),
        events=["moved"],  # the watcher acts on renames only: a plain create is missed
        safety_scan_s=1,
    )
    import_enabled(sconsole, doc)
    engine = make_engine(sqlite_db, sconsole)
    engine.wait_idle(30)
    (watched_folder / "created.txt").write_text("made in place")
    wait_until(lambda: len(file_runs()) >= 1, 20, "the safety scan's run")
    engine.wait_idle(30)
    [run] = file_runs()
    assert run.trigger_path == str(watched_folder / "created.txt")
    # the next scans see nothing new: no second run
    before = engine.triggers.safety_scans
    wait_until(lambda: engine.triggers.safety_scans > before + 1, 10, "two more scans")
    engine.wait_idle(30)
    assert len(file_runs()) == 1


def test_folder_deleted_and_recreated_with_files_gives_one_run_each(
    sqlite_db, sconsole, make_engine, watched_folder, tmp_path
):
    import_enabled(sconsole, workflow_doc("intake", watched_folder, tmp_path / "out"))
    engine = make_engine(sqlite_db, sconsole)
    (watched_folder / "before.txt").write_text("before")
    wait_until(lambda: len(file_runs()) >= 1, 20, "the first run")
    engine.wait_idle(30)
    staged = tmp_path / "staged"
    staged.mkdir()
    for i in range(30):
        (staged / f"again-{i:02}.txt").write_text(f"v2 {i}")
    (staged / "before.txt").write_text("before, second version")
    for p in watched_folder.iterdir():
        p.unlink()
    watched_folder.rmdir()
    os.rename(staged, watched_folder)  # back, files in it, no event for any of them
    wait_until(lambda: len(file_runs()) >= 32, 30, "32 runs")
    engine.wait_idle(30)
    (watched_folder / "after.txt").write_text("after")  # the watch is armed again
    wait_until(lambda: len(file_runs()) >= 33, 20, "the run after re-creation")
    engine.wait_idle(30)
    runs = by_path()
    assert len(runs[str(watched_folder / "before.txt")]) == 2  # two versions, one run each
    assert all(len(runs[str(watched_folder / f"again-{i:02}.txt")]) == 1 for i in range(30))
    assert len(file_runs()) == 33


WRITE_MANY = """\
import os, sys
folder, n = os.fsencode(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    if i == n // 2:
        with open(os.path.join(folder, b"bad\\xff.txt"), "wb") as f:
            f.write(b"undecodable")
    with open(os.path.join(folder, b"f-%05d.txt" % i), "wb") as f:
        f.write(b"%d" % i)
"""


@pytest.mark.xdist_group(INOTIFY_QUEUE)
@pytest.mark.slow
def test_overflow_with_an_undecodable_name_loses_no_good_file(
    sqlite_db, sconsole, make_engine, watched_folder, tmp_path, caplog
):
    knob = Path("/proc/sys/fs/inotify/max_queued_events")
    try:
        old = knob.read_text()
        knob.write_text("64")
    except OSError as exc:
        pytest.skip(f"cannot lower {knob} (needs root): {exc}")
    try:
        import_enabled(sconsole, workflow_doc("intake", watched_folder, tmp_path / "out"))
        engine = make_engine(sqlite_db, sconsole, workers=2)
        engine.wait_idle(30)
        # another process, so the kernel's queue overflows however fast we read it
        subprocess.run([sys.executable, "-c", WRITE_MANY, str(watched_folder), "2000"], check=True)
        wait_until(lambda: len(file_runs()) >= 2001, 120, "2001 runs")
        engine.wait_idle(120)
    finally:
        knob.write_text(old)
    assert "overflow" in caplog.text.lower()
    runs = by_path()
    good = [str(watched_folder / f"f-{i:05}.txt") for i in range(2000)]
    assert [p for p in good if len(runs.get(p, [])) != 1] == []
    assert all(runs[p][0].status == "succeeded" for p in good)
    [bad] = runs[str(watched_folder / "bad\\xff.txt")]
    assert bad.status == "failed"


def test_observer_restart_rescans_and_rearms(
    sqlite_db, sconsole, make_engine, watched_folder, tmp_path
):
    import_enabled(sconsole, workflow_doc("intake", watched_folder, tmp_path / "out"))
    engine = make_engine(sqlite_db, sconsole)
    engine.wait_idle(30)
    manager = engine.triggers.manager
    dead = manager._native
    dead.stop()  # the observer dies (as an exception in its thread would end it)
    dead.join(5)
    for i in range(20):  # while nobody watches
        (watched_folder / f"while-dead-{i:02}.txt").write_text(str(i))
    wait_until(
        lambda: manager._native is not None and manager._native is not dead, 10, "a new observer"
    )
    wait_until(lambda: len(file_runs()) >= 20, 20, "20 runs")
    (watched_folder / "after.txt").write_text("after")  # seen by the new observer
    wait_until(lambda: len(file_runs()) >= 21, 20, "21 runs")
    engine.wait_idle(30)
    runs = by_path()
    assert len(runs) == 21 and all(len(r) == 1 for r in runs.values())
