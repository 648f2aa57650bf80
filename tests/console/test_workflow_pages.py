"""The console calls behind the workflows page, over SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sophmate_desktop.console import Console
from sophmate_desktop.console.workflow_pages import WORKFLOW_SORT_KEYS, next_stage
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import Stage
from sophmate_desktop.domain.errors import BadInput, NotFound
from sophmate_desktop.resources import example_workflows
from sophmate_desktop.store.database import open_database, write_transaction
from sophmate_desktop.store.models import Workflow
from tests.support.factories import make_run, workflow_yaml
from tests.support.mail import invoice_csv


@pytest.fixture
def store(db_url):
    database = open_database(db_url)
    yield Console(database, actor="ana"), database
    database.close()


def to_stage(console: Console, db, name: str, stage: str) -> None:
    if stage in ("staging", "production"):
        make_run(db, name, mode="dry_run", status="succeeded", reviewed=True)
        console.promote(name, "staging")
    if stage == "production":
        for _ in range(5):
            make_run(db, name, mode="staging", status="succeeded", reviewed=True)
        console.promote(name, "production")


def test_health_counts_the_last_ten_finished_runs(store):
    console, db = store
    console.import_workflow(workflow_yaml("wf-one"))
    console.import_workflow(workflow_yaml("wf-two"))
    for status in ["failed"] * 3 + ["succeeded"] * 8 + ["cancelled"]:
        make_run(db, "wf-one", status=status, mode="dry_run")
    make_run(db, "wf-one", status="queued", mode="dry_run")  # not finished: not counted

    one, two = console.workflow_overview_page()
    assert (one.recent_succeeded, one.recent_failed, one.recent_other) == (8, 1, 1)
    assert one.last_status == "cancelled"
    assert (two.recent_succeeded, two.recent_failed, two.last_status) == (0, 0, None)
    assert console.workflow_overview("wf-one") == one


def test_pages_follow_the_sql_order(store):
    console, db = store
    for i, (name, stage) in enumerate(
        [("c-flow", "staging"), ("a-flow", "production"), ("b-flow", "dry_run"), ("d-flow", "")]
    ):
        console.import_workflow(workflow_yaml(name, category=f"cat-{3 - i}", owner=f"o{i}"))
        if stage:
            to_stage(console, db, name, stage)
    console.enable_workflow("a-flow")
    for key in (None, *WORKFLOW_SORT_KEYS):
        for descending in (False, True):
            everything = console.workflow_overview_page(0, 100, key, descending)
            paged = [
                r
                for offset in (0, 2, 4)
                for r in console.workflow_overview_page(offset, 2, key, descending)
            ]
            assert [r.name for r in paged] == [r.name for r in everything], (key, descending)
            assert len(everything) == 4
    stages = [r.stage for r in console.workflow_overview_page(0, 100, "stage", False)]
    assert stages == ["dry_run", "dry_run", "staging", "production"]
    stages = [r.stage for r in console.workflow_overview_page(0, 100, "stage", True)]
    assert stages == ["production", "staging", "dry_run", "dry_run"]
    names = [r.name for r in console.workflow_overview_page(0, 100, None, True)]
    assert names == ["a-flow", "b-flow", "c-flow", "d-flow"]  # no key: by name
    names = [r.name for r in console.workflow_overview_page(0, 100, "name", True)]
    assert names == ["d-flow", "c-flow", "b-flow", "a-flow"]
    enabled = [r.name for r in console.workflow_overview_page(0, 100, "enabled", True)]
    assert enabled[0] == "a-flow"


def test_unknown_sort_key_is_bad_input(store):
    console, _db = store
    with pytest.raises(BadInput, match="sort: unknown key"):
        console.workflow_overview_page(0, 10, "colour", False)


def test_review_order_puts_the_most_urgent_first(store):
    console, db = store
    for name in ("monthly-old", "never-reviewed", "failed-since"):
        console.import_workflow(workflow_yaml(name))
    now = utcnow()
    with write_transaction(db):
        Workflow.update(first_run_reviewed=True, last_reviewed_at=now - timedelta(days=40)).where(
            Workflow.name == "monthly-old"
        ).execute()
        Workflow.update(
            first_run_reviewed=True,
            last_reviewed_at=now - timedelta(days=2),
            last_failure_at=now - timedelta(days=1),
        ).where(Workflow.name == "failed-since").execute()

    rows = console.workflow_overview_page(0, 10, "review", False)
    assert [r.name for r in rows] == ["never-reviewed", "failed-since", "monthly-old"]
    by_name = {r.name: r for r in rows}
    assert by_name["never-reviewed"].review_due == "first run"
    assert by_name["failed-since"].review_due == "after failure"
    assert by_name["monthly-old"].review_due == "monthly"
    assert by_name["monthly-old"].review_overdue  # 40 days: past the 7-day grace


def test_escalations_and_search(store):
    console, db = store
    console.import_workflow(workflow_yaml("prod-flow", owner="ops-lead"))
    to_stage(console, db, "prod-flow", "production")
    console.import_workflow(
        workflow_yaml("orphan", category="ops").replace("owner: ops-lead\n", "")
    )

    rows = {r.name: r for r in console.workflow_overview_page()}
    assert [code for code, _ in rows["prod-flow"].escalations] == ["production_writes"]
    assert rows["orphan"].escalations == (("no_owner", "has no visible owner"),)
    assert rows["orphan"].missing_checklist == ("owner",)
    assert rows["prod-flow"].next_stage is None and next_stage("dry_run") is Stage.STAGING

    assert [r.name for r in console.workflow_overview_page(search="OPS")] == [
        "orphan",
        "prod-flow",
    ]  # category "ops" and owner "ops-lead", case-insensitive
    assert [r.name for r in console.workflow_overview_page(search="orph")] == ["orphan"]


def test_dry_run_refuses_unknown_workflows_and_missing_files(sqlite_url, tmp_path):
    database = open_database(sqlite_url)
    console = Console(database, actor="ana")
    try:
        with pytest.raises(NotFound):
            console.dry_run_file("nope", tmp_path / "x.txt")
        console.import_workflow(workflow_yaml("wf-one"))
        with pytest.raises(BadInput, match="is not a file"):
            console.dry_run_file("wf-one", tmp_path / "missing.txt")  # the engine stops again
    finally:
        database.close()


def test_a_dry_run_of_14_invoices_counts_14_affected_records(sqlite_db, tmp_path) -> None:
    console = Console(sqlite_db, actor="ana")
    [example] = [p for p in example_workflows() if p.name == "invoice-intake.yaml"]
    console.import_workflow(example.read_text().replace("~/", f"{tmp_path}/"))
    sample = tmp_path / "invoices.csv"
    sample.write_text(invoice_csv(14), encoding="utf-8")
    result = console.dry_run_file("invoice-intake", sample)
    assert len(result.writes) == 15
    assert result.run.affected_records == 14
