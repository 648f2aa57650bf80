"""N approvers: partial approvals recorded and audited, the last one moves the write."""

from __future__ import annotations

import pytest

from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.store import audit
from sophmate_desktop.store.models import AuditEvent, Write, WriteApproval
from tests.support.approvers import approve_at_once
from tests.support.factories import make_run, make_write, workflow_yaml


def two_approver_yaml(name: str = "wf-two") -> str:
    return workflow_yaml(name).replace("approval: {mode: always}", "approval: {approvers: 2}")


@pytest.fixture
def two_needed(db, make_console):
    make_console("lead").import_workflow(two_approver_yaml())
    run = make_run(db, "wf-two")
    return [make_write(db, run, seq=i) for i in range(1, 4)]


def actions(write_id: int) -> list[tuple[str, str]]:
    query = AuditEvent.select().where(AuditEvent.subject == f"write {write_id}")
    return [(e.action, e.actor) for e in query.order_by(AuditEvent.id)]


def test_first_approval_is_recorded_and_the_write_stays_pending(make_console, two_needed):
    write = two_needed[0]
    [first] = make_console("ana").approve([write.id], comment="totals fine")
    assert first.ok and first.status == "pending"
    assert "1 of 2" in first.message
    assert Write.get_by_id(write.id).status == "pending"
    assert [(a.approver, a.comment) for a in WriteApproval.select()] == [("ana", "totals fine")]
    assert actions(write.id) == [("write.approval_recorded", "ana")]

    [second] = make_console("bob").approve([write.id])
    assert second.ok and second.status == "approved"
    stored = Write.get_by_id(write.id)
    assert (stored.status, stored.decided_by) == ("approved", "bob")
    assert actions(write.id) == [("write.approval_recorded", "ana"), ("write.approved", "bob")]
    approved = AuditEvent.get(AuditEvent.action == "write.approved")
    assert approved.details["earlier_approvers"] == ["ana"]


def test_the_same_person_cannot_approve_twice(make_console, two_needed):
    write = two_needed[0]
    ana = make_console("ana")
    ana.approve([write.id])
    [again] = make_console("ANA ").approve([write.id])
    assert not again.ok and again.exit_code == 3
    assert "approved it already" in again.message
    assert Write.get_by_id(write.id).status == "pending"
    assert WriteApproval.select().count() == 1


def test_four_eyes_applies_to_each_approver(make_console, two_needed):
    write = two_needed[0]
    lead = make_console("lead")
    lead.set_four_eyes(True)
    [mine] = lead.approve([write.id])
    assert not mine.ok and "four-eyes" in mine.message
    assert WriteApproval.select().count() == 0
    make_console("ana").approve([write.id])
    [still] = lead.approve([write.id])
    assert not still.ok and "four-eyes" in still.message
    [last] = make_console("bob").approve([write.id])
    assert last.ok and last.status == "approved"


def test_rejecting_after_one_approval_rejects(make_console, two_needed):
    write = two_needed[0]
    make_console("ana").approve([write.id])
    [no] = make_console("bob").reject([write.id], comment="wrong month")
    assert no.ok and Write.get_by_id(write.id).status == "rejected"


def test_customer_facing_setting_raises_the_count(db, make_console):
    lead = make_console("lead")
    lead.import_workflow(workflow_yaml("wf-one"))
    run = make_run(db, "wf-one")
    plain = make_write(db, run, seq=1)
    customer = make_write(db, run, seq=2, customer_facing=True)
    with pytest.raises(BadInput, match="customer_facing_approvers"):
        lead.set_customer_facing_approvers(0)
    lead.set_customer_facing_approvers(2)
    assert lead.customer_facing_approvers() == 2
    results = make_console("ana").approve([plain.id, customer.id])
    assert [r.status for r in results] == ["approved", "pending"]
    [last] = make_console("bob").approve([customer.id])
    assert last.status == "approved"
    assert AuditEvent.select().where(AuditEvent.action == "setting.changed").count() == 1


def test_bulk_of_single_approver_writes_records_no_approval_rows(make_console, db):
    make_console("lead").import_workflow(workflow_yaml("wf-one"))
    run = make_run(db, "wf-one")
    writes = [make_write(db, run, seq=i) for i in range(1, 6)]
    results = make_console("ana").approve([w.id for w in writes])
    assert all(r.status == "approved" for r in results)
    assert WriteApproval.select().count() == 0


def test_two_approvers_in_two_processes_make_one_move(db_url, db, two_needed, tmp_path):
    target = two_needed[2].id
    results = approve_at_once(db_url, target, tmp_path)
    assert all(r["ok"] for r in results), results
    assert sorted(r["status"] for r in results) == ["approved", "pending"], results
    assert sorted(a for a, _ in actions(target)) == ["write.approval_recorded", "write.approved"]
    assert Write.get_by_id(target).status == "approved"
    assert WriteApproval.select().where(WriteApproval.write == target).count() == 2
    assert audit.verify(db).ok


def test_inbox_rows_say_why_this_person_may_not_approve(db, make_console, two_needed):
    first, second, _ = two_needed
    lead, ana = make_console("lead"), make_console("ana")
    lead.set_four_eyes(True)
    ana.approve([first.id])
    mine = {r.id: r for r in ana.inbox_rows(0, 50)}
    assert (mine[first.id].approvals, mine[first.id].refusal) == (
        "1 of 2 approvals",
        "you approved it already; another person must give the next approval",
    )
    assert (mine[second.id].approvals, mine[second.id].refusal) == ("0 of 2 approvals", None)
    theirs = {r.id: r for r in lead.inbox_rows(0, 50)}
    assert "four-eyes" in theirs[second.id].refusal
    lead.pause_category("finance", "quarter end")
    bob = {r.id: r for r in make_console("bob").inbox_rows(0, 50)}
    assert "quarter end" in bob[second.id].refusal
    [shown] = [r for r in make_console("bob").list_inbox() if r.id == second.id]
    assert "quarter end" in shown.refusal and shown.approvals_needed == 2
    assert "quarter end" in make_console("bob").get_write(second.id).refusal


def test_plain_writes_carry_no_marker(db, make_console):
    make_console("lead").import_workflow(workflow_yaml("wf-one"))
    write = make_write(db, make_run(db, "wf-one"))
    [row] = make_console("ana").inbox_rows(0, 50)
    assert (row.id, row.approvals, row.refusal) == (write.id, "", None)
