"""`category budget`: set, show and clear a category's cost budgets."""

from __future__ import annotations

from sophmate_desktop.store.models import AuditEvent
from tests.support.cli import REPORTS, Cli


def test_category_budget_sets_keeps_shows_and_clears(cli: Cli) -> None:
    assert cli("workflow", "import", REPORTS).code == 0
    done = cli("category", "budget", "reporting", "--per-day", "10")
    assert done.code == 0, done.err
    assert done.out.strip() == "category reporting budget: 10.00 per day, none per month"
    # an option left out keeps that period's budget
    assert cli("category", "budget", "reporting", "--per-month", "250.5").code == 0
    shown = cli("category", "budget", "reporting", "--json")
    assert shown.json() == {
        "name": "reporting",
        "per_day": 10.0,
        "per_month": 250.5,
        "paused_now": None,
    }
    listed = {r["name"]: r for r in cli("category", "list", "--json").json()}
    assert (listed["reporting"]["budget_per_day"], listed["reporting"]["budget_per_month"]) == (
        10.0,
        250.5,
    )
    bad = cli("category", "budget", "reporting", "--per-day", "-3")
    assert bad.code == 2 and "--per-day" in bad.err
    both = cli("category", "budget", "reporting", "--clear", "--per-day", "1")
    assert both.code == 2 and "--clear" in both.err
    assert cli("category", "budget", "nowhere", "--per-day", "1").code != 0
    cleared = cli("category", "budget", "reporting", "--clear")
    assert cleared.out.strip() == "category reporting budget: none per day, none per month"
    assert cli("category", "budget", "reporting", "--json").json()["per_month"] is None
    actions = [
        e.details for e in AuditEvent.select().where(AuditEvent.action == "category.budget_set")
    ]
    assert [(d["per_day"], d["per_month"]) for d in actions] == [
        (10.0, None),
        (10.0, 250.5),
        (None, None),
    ]
