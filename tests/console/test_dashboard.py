"""Dashboard figures and due reviews, read from real runs, writes and workflows."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.errors import PolicyRefused
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import Run, Workflow, database_proxy
from sophmate_desktop.store.transitions.outcomes import record_final_failure
from tests.support.factories import make_run, make_write, workflow_yaml

DAY = dt.timedelta(days=1)

MAIL_STEP = """\
  - action: send_email
    connection: smtp
    to: a@example.test
    subject: hi
    body: hello
    customer_facing: true
approval:"""


def mail_yaml(name: str, category: str = "sales", owner: str = "ops-lead") -> str:
    return workflow_yaml(name, category, owner).replace("approval:", MAIL_STEP)


def finished_at(db, run: Run, at: dt.datetime) -> Run:
    with write_transaction(db):
        Run.update(finished_at=at).where(Run.id == run.id).execute()
    return run


def fail(db, workflow: str) -> Run:
    """A run that failed after its last retry, recorded the way the engine records it."""
    run = make_run(db, workflow, status="failed")
    with write_transaction(db):
        record_final_failure(database_proxy.obj, run.id, "boom")
    return run


def set_stage(db, name: str, stage: str) -> None:
    with write_transaction(db):
        Workflow.update(stage=stage).where(Workflow.name == name).execute()


def test_counts_of_the_four_tiles(db, console) -> None:
    console.import_workflow(workflow_yaml("wf-one", "finance"))
    console.import_workflow(workflow_yaml("wf-two", "ops"))
    run = make_run(db, "wf-one")
    make_write(db, run, seq=1)
    make_write(db, run, seq=2)
    make_write(db, run, seq=3, status="interrupted")
    make_write(db, run, seq=4, status="applied")
    fail(db, "wf-one")
    finished_at(db, fail(db, "wf-two"), utcnow() - 2 * DAY)  # older than 24 h
    make_run(db, "wf-two", status="held")
    make_run(db, "wf-two", status="held")
    console.pause_category("finance", reason="audit")
    console.pause_effect("email", reason="smtp outage")

    data = console.dashboard()
    assert (data.pending_writes, data.interrupted_writes) == (2, 1)
    assert data.failed_runs_24h == 1
    assert data.held_runs == 2
    assert data.paused_switches == 2
    assert data.paused_names == ("finance", "email")


def test_runs_per_day_has_every_day_with_zeros(db, console) -> None:
    console.import_workflow(workflow_yaml("wf-one"))
    now = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    today = now.date()
    first = dt.datetime.combine(today - 13 * DAY, dt.time())
    finished_at(db, make_run(db, "wf-one", status="succeeded"), now)
    finished_at(db, make_run(db, "wf-one", status="succeeded"), now - dt.timedelta(hours=1))
    finished_at(db, make_run(db, "wf-one", status="failed"), now - 3 * DAY)
    finished_at(db, make_run(db, "wf-one", status="succeeded"), first + dt.timedelta(seconds=1))
    finished_at(db, make_run(db, "wf-one", status="failed"), first - dt.timedelta(seconds=1))
    finished_at(db, make_run(db, "wf-one", status="rejected"), now)  # neither bar
    make_run(db, "wf-one", status="running")

    days = console.dashboard(now=now).runs_per_day
    assert [d.day for d in days] == [today - (13 - i) * DAY for i in range(14)]
    by_day = {d.day: (d.succeeded, d.failed) for d in days}
    assert by_day[today] == (2, 0)
    assert by_day[today - 3 * DAY] == (0, 1)
    assert by_day[today - 13 * DAY] == (1, 0)
    assert sum(s + f for s, f in by_day.values()) == 4


def test_category_health_per_category(db, console) -> None:
    for name, cat in [("wf-a", "alpha"), ("wf-b", "beta"), ("wf-c", "gamma"), ("wf-d", "delta")]:
        console.import_workflow(workflow_yaml(name, cat))
    for _ in range(3):
        make_run(db, "wf-a", status="succeeded")
    fail(db, "wf-a")
    fail(db, "wf-b")
    make_run(db, "wf-b", status="succeeded")
    make_write(db, make_run(db, "wf-c"))
    console.pause_category("delta", reason="supplier audit")

    health = {h.category: h for h in console.dashboard().categories}
    a, b, c, d = health["alpha"], health["beta"], health["gamma"], health["delta"]
    assert (a.runs_24h, a.failed_24h, a.health) == (4, 1, "amber")
    assert "1 of 4 runs failed" in a.note
    assert (b.runs_24h, b.failed_24h, b.health) == (2, 1, "red")
    assert (c.pending_writes, c.health) == (1, "green")
    assert (d.paused, d.health, d.note) == (True, "red", "the category is paused")
    console.pause_all("hosting incident")
    assert {h.health for h in console.dashboard().categories} == {"red"}


def test_escalations_carry_their_reasons(db, console) -> None:
    console.import_workflow(mail_yaml("wf-mail", owner=""))
    console.import_workflow(workflow_yaml("wf-prod"))
    console.import_workflow(workflow_yaml("wf-quiet"))
    set_stage(db, "wf-prod", "production")
    fail(db, "wf-prod")
    fail(db, "wf-prod")
    fail(db, "wf-prod")  # the third pauses it (pause rule: 3)

    esc = {e.workflow: e for e in console.dashboard().escalations}
    assert "wf-quiet" not in esc
    assert esc["wf-mail"].codes == ("customer_facing", "no_owner")
    assert esc["wf-mail"].reasons == ("sends customer-facing output", "has no visible owner")
    prod = esc["wf-prod"]
    assert prod.codes == ("production_writes", "repeated_failures", "paused")
    assert "failed 3 runs in a row" in prod.reasons[1]
    assert prod.reasons[2] == "paused itself: 3 consecutive failed runs"


def test_reviews_due_with_reason_and_overdue(db, console) -> None:
    console.import_workflow(workflow_yaml("wf-one"))
    [due] = console.reviews_due()
    assert (due.workflow, due.kind, due.overdue, due.owner) == (
        "wf-one",
        "first_run",
        False,
        "ops-lead",
    )
    assert due.reason == "the first run has not been reviewed"

    make_run(db, "wf-one", status="succeeded", mode="dry_run")
    console.record_review("wf-one", "first_run", notes="plan is right")
    assert console.reviews_due() == []
    fail(db, "wf-one")
    [due] = console.reviews_due()
    assert due.kind == "after_failure" and "has not been reviewed" in due.reason
    later = console.reviews_due(now=utcnow() + 8 * DAY)
    assert [d.overdue for d in later] == [True]
    assert "overdue since" in later[0].reason
    esc = console.dashboard(now=utcnow() + 8 * DAY).escalations
    assert [e.reasons for e in esc] == [("after failure review overdue",)]

    console.record_review("wf-one", "after_failure", notes="disk was full; fixed")
    assert console.reviews_due() == []
    assert [r.kind for r in console.reviews_due(now=utcnow() + 31 * DAY)] == ["monthly"]


def test_review_summary_says_what_a_review_unlocks(db, console) -> None:
    console.import_workflow(workflow_yaml("wf-one"))
    make_run(db, "wf-one", status="succeeded", mode="dry_run")
    make_run(db, "wf-one", status="failed", mode="dry_run")
    summary = console.review_summary("wf-one")
    assert (summary.unreviewed_succeeded, summary.unreviewed_failed) == (1, 1)
    assert summary.next_stage == "staging"
    assert "needs 1 reviewed successful dry run (0 so far)" in summary.promotion_now
    assert summary.promotion_after is None
    with pytest.raises(PolicyRefused):
        console.promote("wf-one", "staging")

    console.record_review("wf-one", "first_run", notes="ok")
    after = console.review_summary("wf-one")
    # the failed run was not ticked (the default ticks the successful ones): still open
    assert (after.unreviewed, after.last_reviewer, after.promotion_now) == (1, "ana", None)
    assert console.promote("wf-one", "staging").stage == "staging"


def test_runs_awaiting_review_show_graduation_progress(db, console) -> None:
    console.import_workflow(workflow_yaml("wf-one"))
    console.import_workflow(workflow_yaml("wf-prod"))
    set_stage(db, "wf-one", "staging")
    set_stage(db, "wf-prod", "production")
    for _ in range(2):
        make_run(db, "wf-one", status="succeeded", mode="staging", reviewed=True)
    for _ in range(3):
        make_run(db, "wf-one", status="succeeded", mode="staging")
    make_run(db, "wf-one", status="failed", mode="staging")
    make_run(db, "wf-one", status="succeeded", mode="dry_run")  # not its stage any more
    make_run(db, "wf-prod", status="succeeded", mode="production")

    [row] = console.runs_awaiting_review()
    assert (row.workflow, row.succeeded, row.failed) == ("wf-one", 3, 1)
    assert row.progress == "2 of 5 reviewed staging runs"
    summary = console.review_summary("wf-one")
    assert "has 2 of 5 reviewed staging runs" in summary.promotion_now
    assert summary.promotion_after is None  # the review marks the 3 new ones reviewed
    console.record_review("wf-one", "monthly", notes="staging output checked")
    [row] = console.runs_awaiting_review()  # the failed run was not ticked
    assert (row.succeeded, row.failed, row.reviewed_successful) == (0, 1, 5)
    [failed] = console.review_runs("wf-one")
    console.record_review("wf-one", "after_failure", notes="full disk", run_ids=[failed.id])
    assert console.runs_awaiting_review() == []


class _QueryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def _queries_for_dashboard(console) -> int:
    logger = logging.getLogger("peewee")
    counter, level = _QueryCounter(), logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        console.dashboard()
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
    return counter.count


def test_dashboard_queries_do_not_grow_with_runs(db, console) -> None:
    console.import_workflow(workflow_yaml("wf-one"))
    make_run(db, "wf-one", status="succeeded")
    few = _queries_for_dashboard(console)
    for i in range(60):
        run = make_run(db, "wf-one", status="succeeded" if i % 3 else "failed")
        finished_at(db, run, utcnow() - (i % 14) * DAY)
        make_write(db, make_run(db, "wf-one"))
    assert _queries_for_dashboard(console) == few


def test_paused_workflows_count_among_the_paused_switches(db, console) -> None:
    console.import_workflow(workflow_yaml("wf-one"))
    console.import_workflow(workflow_yaml("wf-two", "ops"))
    console.pause_workflow("wf-two", "supplier changed its format")
    console.pause_effect("email", reason="smtp outage")
    data = console.dashboard()
    assert data.paused_switches == 2
    assert data.paused_names == ("email", "wf-two")
