"""Approvals: one decision per write, kill switches and four eyes re-checked in place."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from sophmate_desktop.store.models import AuditEvent, Run, Write
from tests.support.approvers import approve_at_once
from tests.support.factories import make_run, make_write, workflow_yaml


@pytest.fixture
def pending(db, make_console):
    lead = make_console("lead")
    lead.import_workflow(workflow_yaml("wf-one", "finance"))
    run = make_run(db, "wf-one")
    writes = [make_write(db, run, seq=i) for i in range(1, 4)]
    return run, writes


def test_approve_one_records_decision_and_audit(console, pending) -> None:
    run, writes = pending
    [result] = console.approve([writes[0].id], comment="looks right")
    assert result.ok and result.status == "approved"
    w = Write.get_by_id(writes[0].id)
    assert (w.status, w.decided_by, w.comment) == ("approved", "ana", "looks right")
    events = list(AuditEvent.select().where(AuditEvent.action == "write.approved"))
    assert [(e.subject, e.actor, e.run, e.workflow) for e in events] == [
        (f"write {writes[0].id}", "ana", run.id, "wf-one")
    ]


def test_second_decision_is_refused(make_console, pending) -> None:
    _, writes = pending
    make_console("ana").approve([writes[0].id])
    [again] = make_console("bob").reject([writes[0].id], comment="too late")
    assert not again.ok and again.exit_code == 3
    assert "already approved by ana" in again.message


def test_reject_needs_a_comment_and_settles_the_run(console, pending) -> None:
    run, writes = pending
    from sophmate_desktop.domain.errors import BadInput

    with pytest.raises(BadInput, match="--comment"):
        console.reject([writes[0].id], comment=" ")
    results = console.reject([w.id for w in writes], comment="wrong supplier address")
    assert all(r.ok for r in results)
    assert Run.get_by_id(run.id).status == "rejected"
    assert AuditEvent.select().where(AuditEvent.action == "run.rejected").count() == 1


def test_paused_category_refuses_approval_in_place(make_console, pending) -> None:
    _, writes = pending
    make_console("lead").pause_category("finance", reason="hosting incident")
    [result] = make_console("ana").approve([writes[0].id])
    assert not result.ok and result.exit_code == 3
    assert "category finance is paused by lead" in result.message
    assert "hosting incident" in result.message
    assert Write.get_by_id(writes[0].id).status == "pending"


def test_paused_effect_and_global_switch_refuse(make_console, pending) -> None:
    _, writes = pending
    lead = make_console("lead")
    lead.pause_effect("file", reason="disk migration")
    [r1] = make_console("ana").approve([writes[0].id])
    assert "effect file is paused" in r1.message
    lead.resume_effect("file", reason="done")
    lead.pause_all(reason="incident")
    [r2] = make_console("ana").approve([writes[0].id])
    assert "all automation is paused" in r2.message
    lead.resume_all(reason="over")
    [r3] = make_console("ana").approve([writes[0].id])
    assert r3.ok


def test_four_eyes_refuses_the_last_editor(make_console, pending) -> None:
    _, writes = pending
    lead = make_console("lead")
    lead.set_four_eyes(True)
    [mine] = lead.approve([writes[0].id])
    assert not mine.ok and "four-eyes" in mine.message
    [theirs] = make_console("ana").approve([writes[0].id])
    assert theirs.ok


def test_bulk_mixes_successes_and_refusals(make_console, pending) -> None:
    _, writes = pending
    ana = make_console("ana")
    ana.approve([writes[0].id])
    results = ana.approve([writes[0].id, writes[1].id, 999999])
    assert [(r.ok, r.exit_code) for r in results] == [(False, 3), (True, 0), (False, 2)]


def test_two_threads_approving_one_write_make_one_decision(db, make_console, pending) -> None:
    _, writes = pending
    target = writes[1].id
    barrier = threading.Barrier(2)
    outcomes: list = []

    def approve(actor: str) -> None:
        with db.connection_context():
            console = make_console(actor)
            barrier.wait()
            outcomes.extend(console.approve([target], comment=actor))

    threads = [threading.Thread(target=approve, args=(a,)) for a in ("ana", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(o.ok for o in outcomes) == [False, True]
    assert (
        AuditEvent.select()
        .where(AuditEvent.action == "write.approved", AuditEvent.subject == f"write {target}")
        .count()
        == 1
    )
    winner = next(o for o in outcomes if o.ok)
    assert Write.get_by_id(target).decided_by == Write.get_by_id(target).comment
    assert winner.status == "approved"


def test_two_processes_approving_one_write_make_one_decision(
    db_url, db, pending, tmp_path: Path
) -> None:
    _, writes = pending
    target = writes[2].id
    results = approve_at_once(db_url, target, tmp_path)
    assert sorted(r["ok"] for r in results) == [False, True], results
    assert (
        AuditEvent.select()
        .where(AuditEvent.action == "write.approved", AuditEvent.subject == f"write {target}")
        .count()
        == 1
    )
    from sophmate_desktop.store import audit

    assert audit.verify(db).ok


def test_interrupted_write_can_be_marked_applied_or_retried(db, console, pending) -> None:
    _run, writes = pending
    Write.update(status="interrupted").where(Write.id.in_([writes[0].id, writes[1].id])).execute()
    assert console.mark_applied(writes[0].id, comment="checked the mailbox").status == "applied"
    assert console.retry_write(writes[1].id).status == "approved"
    from sophmate_desktop.domain.errors import Conflict

    with pytest.raises(Conflict):
        console.mark_applied(writes[2].id)
    actions = [e.action for e in AuditEvent.select().order_by(AuditEvent.id)]
    assert "write.marked_applied" in actions and "write.retried" in actions


def test_events_of_transactions_on_two_threads_are_not_mixed(console) -> None:
    import threading

    from sophmate_desktop.domain.events import Event

    seen: list[tuple[str, str]] = []
    console.events.subscribe(lambda e: seen.append((threading.current_thread().name, e.kind)))
    inside = threading.Event()
    release = threading.Event()

    def other() -> None:
        with console.transaction():
            console._pending_events.append(Event("from.other"))
            inside.set()
            release.wait(5)

    t = threading.Thread(target=other, name="other")
    t.start()
    assert inside.wait(5)
    console._pending_events.append(Event("from.main"))  # outside any transaction
    release.set()
    t.join(5)
    assert ("other", "from.other") in seen
    assert all(kind != "from.main" for _, kind in seen)
