"""run_grid: every workflow by name with its last runs, oldest first, on both databases."""

from __future__ import annotations

from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import Run
from tests.support.factories import fail, make_run, workflow_yaml


def test_the_last_runs_of_each_workflow_oldest_first(db, console) -> None:
    console.import_workflow(workflow_yaml("wf-b", "ops"))
    console.import_workflow(workflow_yaml("wf-a"))
    ids = [make_run(db, "wf-a", status="succeeded").id for _ in range(5)]
    failed = fail(db, "wf-a", "the endpoint answered 500")
    with write_transaction(db):  # as the engine's fail_run stores it
        Run.update(error="the endpoint answered 500").where(Run.id == failed.id).execute()
    rows = console.run_grid(per_workflow=4)
    assert [(r.workflow, r.category) for r in rows] == [("wf-a", "finance"), ("wf-b", "ops")]
    assert [c.run_id for c in rows[0].cells] == [*ids[-3:], failed.id]
    assert rows[0].cells[-1].status == "failed"
    assert rows[0].last_failure.error == "the endpoint answered 500"
    assert rows[1].cells == () and rows[1].last_failure is None
