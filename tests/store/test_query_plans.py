"""Every hot read of the dashboard, reviews, runs, inbox, tray and switch panel stays
on its indexes: no full scan of run, write or audit_event, without statistics, with
ANALYZE statistics, and with statistics that mimic a million runs (issue 16, item 3).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from sophmate_desktop.console import Console
from sophmate_desktop.store.database import open_database
from tests.support.history_fill import Filled, fill
from tests.support.history_queries import hot_queries
from tests.support.query_plans import Statement, plans, scale_statistics

RUNS = 2_000
MILLION = 500  # x RUNS: the fake statistics' row counts
STATS = ("none", "analyze", "million")
NAMES = tuple(hot_queries("p", "s", 1))


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Filled:
    return fill(tmp_path_factory.mktemp("history") / "base.sqlite3", RUNS)


@pytest.fixture(scope="module", params=STATS)
def console(
    request: pytest.FixtureRequest, filled: Filled, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Console, Filled]]:
    path = tmp_path_factory.mktemp(f"stats-{request.param}") / "history.sqlite3"
    shutil.copy(filled.path, path)
    if request.param == "analyze":
        scale_statistics(path, 1)
    elif request.param == "million":
        scale_statistics(path, MILLION)
    db = open_database(f"sqlite:///{path}", create=False)
    yield Console(db, actor="reader"), filled, request.param
    db.close()


def test_the_statistics_are_the_ones_asked_for(console) -> None:
    c, _filled, stats = console
    found = c.db.execute_sql(
        "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'"
    ).fetchone()[0]
    if stats == "none":
        assert not found
        return
    (stat,) = c.db.execute_sql(
        "SELECT stat FROM sqlite_stat1 WHERE idx = 'run_status_queued_at'"
    ).fetchone()
    assert int(stat.split()[0]) == RUNS * (MILLION if stats == "million" else 1)


@pytest.mark.parametrize("name", NAMES)
def test_hot_query_plan_has_no_full_scan(console, name: str) -> None:
    c, filled, _stats = console
    call = hot_queries(
        filled.production_workflow, filled.staging_workflow, RUNS // 2, now=filled.now
    )[name]
    statements = plans(c.db, lambda: call(c))
    assert statements, f"{name} ran no SELECT"
    bad = {s.sql: s.full_scans() for s in statements if s.full_scans()}
    assert not bad, f"{name}: full scans {bad}"


def test_the_check_sees_a_full_scan(console) -> None:
    """The judge itself: a filter on an unindexed column of run is a full scan."""
    c, _filled, _stats = console
    sql = 'SELECT "t1"."id" FROM "run" AS "t1" WHERE ("t1"."error" = ?)'
    rows = c.db.execute_sql("EXPLAIN QUERY PLAN " + sql, ("x",)).fetchall()
    assert Statement(sql, ("x",), tuple(r[3] for r in rows)).full_scans() == ["SCAN t1"]


def test_a_page_in_key_order_is_not_a_full_scan() -> None:
    page = Statement(
        'SELECT "t1"."id" FROM "run" AS "t1" ORDER BY "t1"."id" DESC LIMIT ?', (100,), ("SCAN t1",)
    )
    sorted_page = Statement(page.sql, (100,), ("SCAN t1", "USE TEMP B-TREE FOR ORDER BY"))
    assert page.full_scans() == []
    assert sorted_page.full_scans() == ["SCAN t1"]


# One workflow's runs: a seek on an index that also gives the page's order (migration
# 0024). Without it, the first page read every run of the workflow and sorted them.
SEEKS = {
    "runs: one workflow by start time": "run_workflow_started",
    "runs: one workflow, failed": "run_workflow_status_id",
}


@pytest.mark.parametrize("name", sorted(SEEKS))
def test_one_workflows_runs_seek_their_index_without_sorting(console, name: str) -> None:
    c, filled, _stats = console
    call = hot_queries(
        filled.production_workflow, filled.staging_workflow, RUNS // 2, now=filled.now
    )[name]
    steps = [step for s in plans(c.db, lambda: call(c)) for step in s.plan]
    assert any(f"USING INDEX {SEEKS[name]} " in step for step in steps), steps
    assert not any("TEMP B-TREE" in step for step in steps), steps
