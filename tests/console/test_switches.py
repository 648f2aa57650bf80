"""Kill switches through the console: held runs, replay and discard, audited."""

from __future__ import annotations

import pytest

from sophmate_desktop.console import Console
from sophmate_desktop.domain.errors import BadInput, PolicyRefused
from sophmate_desktop.store.models import AuditEvent, Category, Run
from tests.support.factories import make_run, workflow_yaml


@pytest.fixture
def two_categories(db, console):
    console.import_workflow(workflow_yaml("wf-fin", "finance"))
    console.import_workflow(workflow_yaml("wf-rep", "reporting"))
    return db


def test_pause_requires_reason(console, two_categories) -> None:
    with pytest.raises(BadInput, match="--reason"):
        console.pause_category("finance", reason="  ")


def test_pause_holds_queued_runs_of_that_category_only(db, console, two_categories) -> None:
    fin = [make_run(db, "wf-fin", status="queued") for _ in range(3)]
    rep = make_run(db, "wf-rep", status="queued")
    row = console.pause_category("finance", reason="hosting incident")
    assert (row.paused, row.paused_by, row.paused_reason, row.held_runs) == (
        True,
        "ana",
        "hosting incident",
        3,
    )
    assert {Run.get_by_id(r.id).status for r in fin} == {"held"}
    assert Run.get_by_id(rep.id).status == "queued"
    ev = AuditEvent.select().where(AuditEvent.action == "category.paused").get()
    assert (ev.category, ev.reason, ev.details["held_runs"]) == ("finance", "hosting incident", 3)


def test_resume_with_replay_requeues_and_audits(db, console, two_categories) -> None:
    runs = [make_run(db, "wf-fin", status="queued") for _ in range(2)]
    console.pause_category("finance", reason="incident")
    console.resume_category("finance", reason="fixed", held="replay")
    assert {Run.get_by_id(r.id).status for r in runs} == {"queued"}
    ev = AuditEvent.select().where(AuditEvent.action == "held.replayed").get()
    assert ev.details["count"] == 2
    resumed = AuditEvent.select().where(AuditEvent.action == "category.resumed").get()
    assert resumed.details["held_choice"] == "replay"


def test_resume_with_discard_cancels(db, console, two_categories) -> None:
    run = make_run(db, "wf-fin", status="queued")
    console.pause_all(reason="incident")
    console.resume_all(reason="fixed", held="discard")
    assert Run.get_by_id(run.id).status == "cancelled"
    assert AuditEvent.select().where(AuditEvent.action == "held.discarded").count() == 1


def test_replay_refused_while_still_paused(db, console, two_categories) -> None:
    run = make_run(db, "wf-fin", status="queued")
    console.pause_category("finance", reason="incident")
    with pytest.raises(PolicyRefused, match="category finance is paused"):
        console.replay_held([run.id])
    assert console.discard_held([run.id], reason="not needed") == 1


def test_held_ids_must_exist(console, two_categories) -> None:
    with pytest.raises(BadInput, match="not held runs: 424242"):
        console.replay_held([424242])


def test_effect_switch_validates_kind(console) -> None:
    with pytest.raises(BadInput, match="unknown effect kind 'fax'"):
        console.pause_effect("fax", reason="x")
    row = console.pause_effect("email", reason="smtp outage")
    assert row.paused and row.scope == "effect"


def test_switch_list_shows_everything(console, two_categories) -> None:
    console.pause_category("reporting", reason="quarter close")
    rows = {(r.scope, r.name): r for r in console.list_switches()}
    assert rows[("category", "reporting")].paused
    assert not rows[("category", "finance")].paused
    assert ("global", "all") in rows and ("effect", "customer_facing") in rows
    assert Category.get(Category.name == "reporting").paused_reason == "quarter close"


def audit_of(action: str) -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id))


def test_resuming_everything_by_category_keeps_each_category_paused(sqlite_db):
    ana, lead = Console(sqlite_db, actor="ana"), Console(sqlite_db, actor="lead")
    for name, category in (("wf-fin", "finance"), ("wf-rep", "reporting"), ("wf-ops", "ops")):
        lead.import_workflow(workflow_yaml(name, category))
    with pytest.raises(BadInput, match="everything is not paused"):
        lead.resume_all("nothing paused", held="by_category")
    lead.pause_category("ops", "ops migration")  # paused on its own before the incident
    ana.pause_all("hosting incident")
    with pytest.raises(BadInput, match="only to resuming everything"):
        lead.resume_category("ops", "x", held="by_category")
    everything = lead.resume_all("hosting is back", held="by_category")
    assert not everything.paused
    rows = {r.name: r for r in lead.list_switches() if r.scope == "category"}
    assert {n: (r.paused, r.paused_by, r.paused_reason) for n, r in rows.items()} == {
        "finance": (True, "ana", "hosting incident"),
        "ops": (True, "lead", "ops migration"),  # its own pause, untouched
        "reporting": (True, "ana", "hosting incident"),
    }
    kept = audit_of("category.paused")[-2:]
    assert [(e.actor, e.subject, e.reason, e.details["kept_from"]) for e in kept] == [
        ("lead", "finance", "hosting incident", "everything"),
        ("lead", "reporting", "hosting incident", "everything"),
    ]
    [resumed] = audit_of("global.resumed")
    assert (resumed.actor, resumed.reason) == ("lead", "hosting is back")
    assert resumed.details["held_choice"] == "by_category"
    assert resumed.details["kept_paused"] == ["finance", "reporting"]
