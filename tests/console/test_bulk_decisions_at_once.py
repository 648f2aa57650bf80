"""Four approvers deciding the same writes at once, each from a process of their own,
in calls of 100 shuffled ids: every write is decided once and nobody sees an error
(on PostgreSQL the rows are locked in one order, so no two decisions deadlock)."""

from __future__ import annotations

import pytest

from sophmate_desktop.store import audit
from sophmate_desktop.store.models import AuditEvent, Write
from tests.support.approvers import approve_in_bulk_at_once
from tests.support.factories import many_writes, workflow_yaml

WRITES = 10_000
APPROVERS = ("ana", "bob", "cy", "dee")


@pytest.mark.timeout(300)
def test_four_approvers_over_shuffled_writes_decide_each_once(db_url, db, make_console, tmp_path):
    make_console("lead").import_workflow(workflow_yaml("wf-one"))
    ids = many_writes(db, "wf-one", WRITES)
    results = approve_in_bulk_at_once(db_url, ids, tmp_path, APPROVERS)

    assert [r["errors"] for r in results] == [[]] * len(APPROVERS)
    decided = [wid for r in results for wid in r["decided"]]
    assert sorted(decided) == ids  # each once, by whoever reached it first
    assert Write.select().where(Write.status == "approved").count() == WRITES
    events = AuditEvent.select().where(AuditEvent.action == "write.approved").count()
    assert events == WRITES
    assert audit.verify(db).ok
