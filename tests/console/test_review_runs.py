"""A review marks the runs the reviewer ticked; by default the successful ones only."""

from __future__ import annotations

import pytest

from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.store.models import AuditEvent, Run
from tests.support.factories import make_run, workflow_yaml


@pytest.fixture
def runs(db, console):
    console.import_workflow(workflow_yaml("wf-one"))
    ok = [make_run(db, "wf-one", status="succeeded", mode="dry_run") for _ in range(2)]
    bad = make_run(db, "wf-one", status="failed", mode="dry_run")
    waiting = make_run(db, "wf-one")  # awaiting approval: not finished
    return ok, bad, waiting


def reviewed() -> set[int]:
    return {r.id for r in Run.select().where(Run.reviewed_at.is_null(False))}


def test_review_lists_the_finished_unreviewed_runs(console, runs) -> None:
    ok, bad, _ = runs
    listed = console.review_runs("wf-one")
    assert [(r.id, r.status, r.succeeded) for r in listed] == [
        (ok[0].id, "succeeded", True),
        (ok[1].id, "succeeded", True),
        (bad.id, "failed", False),
    ]


def test_default_review_marks_the_successful_runs_never_a_failed_one(console, runs) -> None:
    ok, bad, _ = runs
    console.record_review("wf-one", "first_run", notes="plan right")
    assert reviewed() == {ok[0].id, ok[1].id}
    event = AuditEvent.get(AuditEvent.action == "review.recorded")
    assert event.details["runs"] == [ok[0].id, ok[1].id]
    assert [r.id for r in console.review_runs("wf-one")] == [bad.id]


def test_review_marks_exactly_the_ticked_runs(console, runs) -> None:
    ok, bad, _ = runs
    console.record_review("wf-one", "after_failure", notes="read", run_ids=[bad.id, ok[1].id])
    assert reviewed() == {bad.id, ok[1].id}
    summary = console.review_summary("wf-one")
    assert summary.unreviewed == 1


def test_graduation_counts_reviewed_successful_runs_only(console, runs) -> None:
    _, bad, _ = runs
    console.record_review("wf-one", "first_run", notes="only the failure", run_ids=[bad.id])
    from sophmate_desktop.store import queries

    wf_id = Run.get_by_id(bad.id).workflow_id
    assert queries.count_reviewed_successful_runs(wf_id, "dry_run") == 0
    console.record_review("wf-one", "monthly", notes="the rest")
    assert queries.count_reviewed_successful_runs(wf_id, "dry_run") == 2


@pytest.mark.parametrize("bad_id", ["x", "unfinished", "reviewed"])
def test_review_refuses_runs_it_does_not_cover(console, runs, bad_id) -> None:
    ok, _, waiting = runs
    if bad_id == "reviewed":
        console.record_review("wf-one", "first_run", notes="ok", run_ids=[ok[0].id])
        bad_id = ok[0].id
    elif bad_id == "unfinished":
        bad_id = waiting.id
    with pytest.raises(BadInput, match="--runs"):
        console.record_review("wf-one", "monthly", notes="n", run_ids=[bad_id])
