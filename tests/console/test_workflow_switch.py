"""A kill switch per workflow through the console: pause, resume, held runs, true answers."""

from __future__ import annotations

import pytest

from sophmate_desktop.domain.errors import BadInput, PolicyRefused
from sophmate_desktop.store.models import AuditEvent, Run, Workflow
from tests.support.factories import fail, make_run, make_write, workflow_yaml


@pytest.fixture
def two_workflows(db, console):
    console.import_workflow(workflow_yaml("wf-fin", "finance"))
    console.import_workflow(workflow_yaml("wf-rep", "finance"))
    return db


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id))


def test_pause_needs_a_reason(console, two_workflows) -> None:
    with pytest.raises(BadInput, match="--reason"):
        console.pause_workflow("wf-fin", " ")
    assert not Workflow.get(Workflow.name == "wf-fin").paused


def test_pause_holds_that_workflows_queued_runs_only(db, console, two_workflows) -> None:
    mine = [make_run(db, "wf-fin", status="queued") for _ in range(2)]
    other = make_run(db, "wf-rep", status="queued")
    result = console.pause_workflow("wf-fin", "bad input file")
    assert (result.changed, result.paused, result.paused_by, result.held_runs) == (
        True,
        True,
        "ana",
        2,
    )
    assert {Run.get_by_id(r.id).status for r in mine} == {"held"}
    assert Run.get_by_id(other.id).status == "queued"
    [ev] = _events("workflow.paused")
    assert (ev.workflow, ev.reason, ev.details["held_runs"]) == ("wf-fin", "bad input file", 2)
    wf = Workflow.get(Workflow.name == "wf-fin")
    assert (wf.paused, wf.paused_by, wf.paused_reason) == (True, "ana", "bad input file")


def test_pausing_a_paused_workflow_says_so_and_changes_nothing(console, two_workflows) -> None:
    console.pause_workflow("wf-fin", "first")
    again = console.pause_workflow("wf-fin", "second")
    assert not again.changed
    assert "already paused by ana: first" in again.message()
    assert len(_events("workflow.paused")) == 1


def test_resuming_what_is_not_paused_says_so_no_event_no_replay(db, console, two_workflows) -> None:
    console.pause_category("finance", "incident")
    run = make_run(db, "wf-fin", status="queued")
    console.pause_workflow("wf-rep", "x")  # a held run elsewhere stays as it is
    with db.atomic():
        Run.update(status="held").where(Run.id == run.id).execute()
    result = console.resume_workflow("wf-fin", "all good", held="replay")
    assert not result.changed
    assert "is not paused: nothing to resume" in result.message()
    assert _events("workflow.resumed") == [] and _events("held.replayed") == []
    assert Run.get_by_id(run.id).status == "held"


def test_resume_replays_its_held_runs(db, console, two_workflows) -> None:
    run = make_run(db, "wf-fin", status="queued")
    console.pause_workflow("wf-fin", "bad input")
    result = console.resume_workflow("wf-fin", "input fixed", held="replay")
    assert (result.changed, result.paused, result.replayed, result.held_runs) == (
        True,
        False,
        1,
        0,
    )
    assert (result.paused_by, result.paused_reason, result.cause) == ("ana", "bad input", None)
    assert Run.get_by_id(run.id).status == "queued"
    [ev] = _events("workflow.resumed")
    assert (ev.reason, ev.details["held_choice"], ev.details["held_count"]) == (
        "input fixed",
        "replay",
        1,
    )
    assert not Workflow.get(Workflow.name == "wf-fin").paused


def test_resume_discards_or_keeps(db, console, two_workflows) -> None:
    run = make_run(db, "wf-fin", status="queued")
    console.pause_workflow("wf-fin", "x")
    kept = console.resume_workflow("wf-fin", "later", held="keep")
    assert (kept.held_runs, Run.get_by_id(run.id).status) == (1, "held")
    assert "1 held run waiting" in kept.message()
    console.pause_workflow("wf-fin", "x")
    gone = console.resume_workflow("wf-fin", "not needed", held="discard")
    assert (gone.discarded, Run.get_by_id(run.id).status) == (1, "cancelled")


def test_resume_replay_leaves_runs_of_a_paused_category_held(db, console, two_workflows) -> None:
    run = make_run(db, "wf-fin", status="queued")
    console.pause_workflow("wf-fin", "x")
    console.pause_category("finance", "incident")
    result = console.resume_workflow("wf-fin", "fixed", held="replay")
    assert result.changed and result.replayed == 0
    assert "category finance is paused" in result.message()
    assert Run.get_by_id(run.id).status == "held"


def test_held_replay_leaves_a_still_paused_workflows_runs_held(db, console, two_workflows) -> None:
    mine = make_run(db, "wf-fin", status="queued")
    other = make_run(db, "wf-rep", status="queued")
    console.pause_workflow("wf-fin", "bad input")
    console.pause_workflow("wf-rep", "y")
    console.resume_workflow("wf-rep", "ok", held="keep")
    moved, left = console.replay_held_saying(None, "replay what can go")
    assert moved == 1
    assert Run.get_by_id(other.id).status == "queued"
    assert Run.get_by_id(mine.id).status == "held"
    assert left == [f"1 held run stays held ({mine.id}): workflow wf-fin is paused: bad input"]
    with pytest.raises(PolicyRefused, match="workflow wf-fin is paused"):
        console.replay_held([mine.id])


def test_approval_of_a_paused_workflows_write_is_refused(
    db, console, make_console, two_workflows
) -> None:
    write = make_write(db, make_run(db, "wf-fin"))
    console.pause_workflow("wf-fin", "wrong rates")
    approver = make_console("ben")  # four eyes on PostgreSQL: another person approves
    [result] = approver.approve([write.id])
    assert not result.ok and result.exit_code == 3
    assert "workflow wf-fin is paused: wrong rates" in result.message
    console.resume_workflow("wf-fin", "rates fixed")
    [result] = approver.approve([write.id])
    assert result.ok


def test_resume_after_an_automatic_pause_says_why_and_the_review_due(
    db, console, two_workflows
) -> None:
    for _ in range(3):
        fail(db, "wf-fin")
    state = console.workflow_pause_state("wf-fin")
    assert state.paused and state.paused_itself
    assert (state.cause, state.review_due) == ("consecutive_failures", "after_failure")
    result = console.resume_workflow("wf-fin", "fixed the parser")
    assert "it paused itself" in result.message()
    assert "after_failure review is due" in result.message()
    [ev] = _events("workflow.resumed")
    assert (ev.details["cause"], ev.details["review_due"]) == (
        "consecutive_failures",
        "after_failure",
    )
    console.record_review("wf-fin", result.review_due, notes="fixed the parser")
    assert console.workflow_pause_state("wf-fin").review_due is None
    assert Workflow.get(Workflow.name == "wf-fin").consecutive_failures == 0
