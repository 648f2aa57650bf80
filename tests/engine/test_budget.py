"""Category cost budgets (DESIGN 4): runs whose actions report a cost go on until the
category's budget is spent, then the category pauses itself (audited, notified) and a
new file becomes a held run. Also the schema that holds budgets and costs."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import AuditEvent, Category, Notification, Run, Workflow
from sophmate_desktop.store.transitions.budget import check_budget, period_start
from tests.support.engine import to_staging, wait_until, workflow_doc
from tests.support.factories import make_run, workflow_yaml
from tests.support.plugins import installed_plugin

MODULE = "sophmate_budget_test_plugin"
PLUGIN = '''
from pathlib import Path

from sophmate_desktop.domain.enums import EffectKind
from sophmate_desktop.engine.actions import ApplyResult, PlannedWrite


class PaidCall:
    """Stands for a paid API call: each planned call reports `with.cost`."""

    name = "paid_call"
    effect = EffectKind.FILE
    idempotent = True

    def plan(self, step, ctx):
        out = Path(ctx.output_paths[0]) / "calls.log"
        return [
            PlannedWrite(
                kind=self.name,
                effect=self.effect,
                target=str(out),
                summary="one paid call",
                preview="one paid call",
                payload={"path": str(out)},
                cost=float(step.params["cost"]),
            )
        ]

    def apply(self, payload, ctx):
        with open(payload["path"], "a", encoding="utf-8") as fh:
            fh.write(ctx.idempotency_key + "\\n")
        return ApplyResult()
'''
PAID = """\
  - action: paid_call
    effect: file
    with: {cost: 4}
"""


@pytest.fixture
def paid_plugin(tmp_path: Path) -> Iterator[Path]:
    source = textwrap.dedent(PLUGIN)
    entry = f"paid_call = {MODULE}:PaidCall"
    with installed_plugin(
        tmp_path / "site", MODULE, source, "sophmate-budget-test-plugin", "1.0.0", entry
    ) as folder:
        yield folder


def test_runs_spend_the_daily_budget_then_the_category_pauses_and_holds_new_files(
    paid_plugin, sqlite_db, sconsole, make_engine, tmp_path, watched_folder
):
    out = tmp_path / "out"
    out.mkdir()
    sample = tmp_path / "sample.txt"
    sample.write_text("sample", encoding="utf-8")
    doc = workflow_doc("caller", watched_folder, out, steps=PAID, category="paid")
    sconsole.import_workflow(doc)
    sconsole.set_category_budget("paid", per_day=10)
    engine = make_engine(sqlite_db, sconsole)
    to_staging(sconsole, engine, "caller", sample)  # a dry run: planned, nothing spent

    def runs() -> list[Run]:
        return list(Run.select().where(Run.mode == "staging").order_by(Run.id))

    for n in (1, 2, 3):
        (watched_folder / f"in{n}.txt").write_text(f"file {n}", encoding="utf-8")
        wait_until(
            lambda n=n: len(runs()) == n and runs()[-1].status == "awaiting_approval",
            20,
            f"staging run {n} to be planned",
        )
        assert Category.get(Category.name == "paid").paused is (n == 3)
    assert [r.cost for r in runs()] == [4.0, 4.0, 4.0]

    cat = Category.get(Category.name == "paid")
    assert cat.paused_by == "policy"
    assert cat.paused_reason == "cost budget spent: 12.00 of 10.00 today"
    event = AuditEvent.get(AuditEvent.action == "category.paused")
    assert event.actor == "policy" and event.category == "paid"
    assert event.run == runs()[-1].id
    assert event.details["cause"] == "budget"
    assert event.details["period"] == "day"
    assert event.details["spent"] == 12.0 and event.details["budget"] == 10.0
    note = Notification.get(Notification.kind == "auto_paused")
    assert "paid" in note.title and "12.00 of 10.00 today" in note.title

    (watched_folder / "in4.txt").write_text("file 4", encoding="utf-8")
    held = wait_until(
        lambda: Run.get_or_none(Run.status == "held", Run.trigger_path.endswith("in4.txt")),
        20,
        "the new file's run to be held",
    )
    assert held.cost == 0.0
    assert AuditEvent.select().where(AuditEvent.action == "category.paused").count() == 1


def _paid_runs(db, costs: list[float], mode: str = "staging") -> list[Run]:
    made = []
    for cost in costs:
        run = make_run(db, "wf-one", mode=mode)
        with write_transaction(db):
            Run.update(cost=cost).where(Run.id == run.id).execute()
        made.append(run)
    return made


def test_the_monthly_budget_counts_the_month_and_ignores_dry_runs(db, console):
    console.import_workflow(workflow_yaml("wf-one", category="finance"))
    console.set_category_budget("finance", per_month=5.5)
    _paid_runs(db, [3.0, 9.0], mode="dry_run")
    old = _paid_runs(db, [100.0])[0]
    with write_transaction(db):  # last month's spending is not this month's
        last_month = period_start("month", old.started_at) - dt.timedelta(seconds=1)
        Run.update(started_at=last_month).where(Run.id == old.id).execute()
    _paid_runs(db, [2.5])
    with write_transaction(db):
        assert check_budget(db, "finance") is None
    _paid_runs(db, [3.0])
    with write_transaction(db):
        pause = check_budget(db, "finance")
    assert pause is not None and pause.period == "month"
    assert pause.reason == "cost budget spent: 5.50 of 5.50 this month"
    cat = Category.get(Category.name == "finance")
    assert cat.paused and cat.paused_by == "policy" and cat.paused_reason == pause.reason
    with write_transaction(db):  # paused already: no second pause, event or notice
        assert check_budget(db, "finance") is None
    assert AuditEvent.select().where(AuditEvent.action == "category.paused").count() == 1
    assert Notification.select().where(Notification.kind == "auto_paused").count() == 1


def test_set_category_budget_is_audited_and_refuses_negatives(db, console):
    console.import_workflow(workflow_yaml("wf-one", category="finance"))
    row = console.set_category_budget("finance", per_day=12.5, per_month=200)
    assert (row.per_day, row.per_month, row.paused_now) == (12.5, 200.0, None)
    event = AuditEvent.get(AuditEvent.action == "category.budget_set")
    assert event.actor == "ana" and event.category == "finance"
    assert event.details == {
        "per_day": 12.5,
        "per_month": 200.0,
        "before": {"per_day": None, "per_month": None},
    }
    for bad in ({"per_day": -1}, {"per_month": -0.01}, {"per_day": float("nan")}):
        with pytest.raises(BadInput):
            console.set_category_budget("finance", **bad)
    cleared = console.set_category_budget("finance")
    assert (cleared.per_day, cleared.per_month) == (None, None)
    assert console.category_budget("finance") == cleared


def test_a_budget_set_below_todays_spending_pauses_at_once(db, console):
    console.import_workflow(workflow_yaml("wf-one", category="finance"))
    _paid_runs(db, [7.0])
    row = console.set_category_budget("finance", per_day=5)
    assert row.paused_now == "cost budget spent: 7.00 of 5.00 today"
    assert Category.get(Category.name == "finance").paused


def test_costs_and_mtimes_keep_double_precision(db, console):
    """PostgreSQL created FloatField columns as 4-byte `real`; migration 0004 widens them."""
    console.import_workflow(workflow_yaml("wf-one", category="finance"))
    run = make_run(db, "wf-one")
    mtime, cost = 1764253218.123456, 0.1 + 0.2
    with write_transaction(db):
        Run.update(trigger_mtime=mtime, cost=cost).where(Run.id == run.id).execute()
        Category.update(budget_per_day=1234567.891).execute()
    back = Run.get_by_id(run.id)
    assert (back.trigger_mtime, back.cost) == (mtime, cost)
    assert Category.get(Category.name == "finance").budget_per_day == 1234567.891
    assert Workflow.get(Workflow.name == "wf-one").category.name == "finance"


def test_a_cost_reported_when_a_write_is_applied_counts_towards_the_budget(sqlite_db, sconsole):
    from sophmate_desktop.store.transitions import outcomes
    from tests.support.factories import make_write

    sconsole.import_workflow(workflow_yaml("paid-apply", "paid"))
    sconsole.set_category_budget("paid", per_day=5)
    run = make_run(sqlite_db, "paid-apply", status="awaiting_approval", mode="staging")
    write = make_write(sqlite_db, run)
    sconsole.approve([write.id])
    claimed, why = outcomes.begin_apply(sqlite_db, write.id, "test-host:1")
    assert claimed is not None, why
    assert outcomes.finish_apply(sqlite_db, write.id, cost=6.0) == "succeeded"
    assert Run.get_by_id(run.id).cost == 6.0
    cat = Category.get(Category.name == "paid")
    assert cat.paused and cat.paused_reason == "cost budget spent: 6.00 of 5.00 today"
    assert AuditEvent.get(AuditEvent.action == "category.paused").run == run.id
