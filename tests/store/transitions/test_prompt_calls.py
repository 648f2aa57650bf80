"""Prompt calls recorded with a run's plan (issue 17), on SQLite and PostgreSQL: each
call a row and an audit event in the plan's transaction, the run's cost the writes'
plus every call's (earlier attempts included), the category's budget checked, an
AI-drafted write stored as such; calls of a run that ended otherwise recorded alone."""

from __future__ import annotations

from dataclasses import replace

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.store import audit
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import AuditEvent, Category, PromptCall, Run, Workflow, Write
from sophmate_desktop.store.sql import queued_transaction
from sophmate_desktop.store.transitions.plans import Plan, store_plans
from sophmate_desktop.store.transitions.prompt_calls import (
    add_prompt_cost,
    insert_prompt_calls,
    prompt_call_rows,
)
from sophmate_desktop.store.workflows import load_workflow
from tests.support.run_flow import WORKFLOW, Flow, email


def call(n: int, cost: float, status: str = "answered") -> dict:
    return {
        "step": 0,
        "step_name": "draft",
        "record_number": n,
        "connection": "drafting-llm",
        "provider": "openai",
        "model": "gpt-x",
        "status": status,
        "system": "be brief",
        "prompt": f"reply to row {n}",
        "answer": f"Dear {n}",
        "tokens_in": 10 * n,
        "tokens_out": n,
        "latency_ms": 12.5,
        "cost": cost,
        "request_id": f"req_{n}",
        "attempt": 1,
        "at": utcnow(),
    }


def _staged(db, make_console) -> Flow:
    make_console("lead").import_workflow(WORKFLOW)
    with write_transaction(db):
        Workflow.update(stage="staging", enabled=True).execute()
    return Flow(db, make_console("ana"))


def test_calls_are_stored_with_the_plan_and_their_cost_counts(db, make_console) -> None:
    flow = _staged(db, make_console)
    lead = make_console("lead")
    lead.set_category_budget("finance", per_day=0.5)
    run_id = flow.offer()
    # An earlier attempt's call, recorded when that attempt failed.
    with queued_transaction(db):
        add_prompt_cost(run_id, insert_prompt_calls(db, run_id, "invoice-intake", "finance",
                                                    [call(1, 0.25, "failed")]))  # fmt: skip
    flow.claim(run_id)
    wf = load_workflow(Workflow.get(Workflow.name == "invoice-intake"))
    drafted = replace(email(1), customer_facing=True, ai_drafted=True, cost=0.0)
    plan = Plan(run_id, wf, [drafted], 100, 0, 1, calls=[call(1, 0.2), call(2, 0.1)])
    assert store_plans(db, [plan])[run_id][0] == "awaiting_approval"

    rows = prompt_call_rows(run_id)
    assert [(r.seq, r.record_number, r.status) for r in rows] == [
        (1, 1, "failed"),
        (2, 1, "answered"),
        (3, 2, "answered"),
    ]
    assert rows[2].about == "row 2" and rows[2].tokens == 22 and rows[2].request_id == "req_2"
    assert Run.get_by_id(run_id).cost == 0.25 + 0.2 + 0.1
    [w] = Write.select().where(Write.run == run_id)
    assert w.ai_drafted and w.customer_facing and w.status == "pending"
    events = list(AuditEvent.select().where(AuditEvent.action == "prompt.called"))
    assert [e.details["seq"] for e in events] == [1, 2, 3]
    assert events[1].details["model"] == "gpt-x" and events[1].details["cost"] == 0.2
    assert "reply to row" not in str([e.details for e in events])  # the text stays on the row
    assert audit.verify(db).ok
    # 0.55 spent of a 0.50 daily budget: the category paused in the same transaction.
    assert Category.get(Category.name == "finance").paused
    assert PromptCall.select().count() == 3
