"""The notices' outbox: deliveries queued with the notice, in its transaction, with
the context another operator needs; category-wide notices reach every workflow's
targets; notices that are not failures reach nobody outside."""

from __future__ import annotations

from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import NoticeDelivery
from sophmate_desktop.store.notifications import record_notification
from tests.support.factories import make_run, make_write, workflow_yaml


def _import(console, name: str, targets: str, category: str = "finance") -> None:
    text = workflow_yaml(name, category).replace(
        "notify: {on_failure: [tray]}", f"notify: {{on_failure: {targets}}}"
    )
    console.import_workflow(text)


def test_a_spent_budget_reaches_the_targets_of_every_workflow_in_the_category(db, console):
    _import(console, "wf-a", '[tray, "ntfy://ops", "email:a@example.test"]')
    _import(console, "wf-b", '["ntfy://ops", "json://127.0.0.1:9/hook"]')
    _import(console, "wf-c", '["ntfy://elsewhere"]', category="reporting")
    with write_transaction(db):
        note = record_notification(
            "warning", "auto_paused", "Category finance paused itself", category="finance"
        )
    rows = NoticeDelivery.select().where(NoticeDelivery.notification == note)
    assert sorted(d.target for d in rows) == [
        "email:a@example.test",
        "json://127.0.0.1:9/hook",
        "ntfy://ops",
    ]


def test_the_context_says_what_was_applied_and_how_to_roll_back(db, console):
    _import(console, "wf-a", '["ntfy://ops"]')
    run = make_run(db, "wf-a", status="failed")
    make_write(db, run, seq=1, status="applied", target="/tmp/out/a.txt")
    make_write(db, run, seq=2, status="failed", target="/tmp/out/b.txt")
    with write_transaction(db):
        record_notification(
            "error", "run_failed", "wf-a: run failed", "disk full", workflow="wf-a", run=run.id
        )
    [d] = NoticeDelivery.select()
    assert d.body.startswith("disk full\n\nWorkflow: wf-a (owner: ops-lead, stage: ")
    assert "Already applied:\n  write " in d.body and "write_file to /tmp/out/a.txt" in d.body
    assert "/tmp/out/b.txt" not in d.body
    assert "Rollback: Delete the written file." in d.body
    assert f"sophmate-desktop-cli runs show {run.id}" in d.body


def test_a_failed_transaction_leaves_no_delivery(db, console):
    _import(console, "wf-a", '["ntfy://ops"]')
    try:
        with write_transaction(db):
            record_notification("error", "run_failed", "wf-a failed", workflow="wf-a")
            raise RuntimeError("the state change failed")
    except RuntimeError:
        pass
    assert NoticeDelivery.select().count() == 0


def test_notices_that_are_not_failures_reach_nobody_outside(db, console):
    _import(console, "wf-a", '["ntfy://ops"]')
    with write_transaction(db):
        record_notification("info", "writes_pending", "3 writes await approval")
        record_notification("info", "writes_pending", "wf-a waits", workflow="wf-a")
    assert NoticeDelivery.select().count() == 0
