"""A write stuck in `applying` is never hidden: the inbox (the CLI's listing and the
window's pages) shows it with the engine holding it, how long it has applied, and
whether that engine is down."""

from __future__ import annotations

from sophmate_desktop.store import instances
from sophmate_desktop.store.models import EngineInstance
from sophmate_desktop.store.transitions.applying import begin_applies
from tests.support.factories import make_run, make_write, workflow_yaml


def _applying(db, console):
    console.import_workflow(workflow_yaml("wf-fin"))
    write = make_write(db, make_run(db, "wf-fin"), status="approved")
    instance = instances.new_instance_id()
    instances.register(db, instance, name="desk-a")
    claimer = instances.claim_token(instance, "desk-a")
    claimed, refused = begin_applies(db, [write.id], claimer)
    assert [w.id for w in claimed] == [write.id] and not refused
    return write.id, instance, claimer


def test_an_applying_write_shows_its_engine_and_since_when(db, console):
    write_id, _instance, claimer = _applying(db, console)
    [row] = [r for r in console.list_inbox() if r.id == write_id]
    assert row.status_text == f"applying on {claimer} for < 1 min"
    assert row.applying_since is not None and not row.engine_down
    [page_row] = [r for r in console.inbox_rows(0, 50) if r.id == write_id]
    assert page_row.status_text == row.status_text


def test_a_write_whose_engine_is_down_says_so(db, console):
    write_id, instance, claimer = _applying(db, console)
    instances.mark_stopped(db, instance)  # what a takeover sweep sees of a dead engine
    [row] = [r for r in console.list_inbox() if r.id == write_id]
    assert row.status_text == f"applying on {claimer} (engine down) for < 1 min"
    assert EngineInstance.get_by_id(instance).stopped_at is not None
