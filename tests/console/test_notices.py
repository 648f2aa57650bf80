"""Notices for the notification centre and the tray: listing, reading, acknowledging
(audited), and the tray's one-call status."""

from __future__ import annotations

import datetime as dt

import pytest

from sophmate_desktop.domain.errors import BadInput, Conflict, NotFound
from sophmate_desktop.store.models import AuditEvent, Notification, Workflow
from tests.support.factories import make_run, make_write, workflow_yaml


def notice(
    console, kind: str, title: str, *, level: str = "error", workflow=None, run=None, group_key=None
) -> int:
    with console.transaction():
        return console.notify(
            level, kind, title, "details", workflow=workflow, run=run, group_key=group_key
        )


@pytest.fixture
def finance(console):
    console.import_workflow(workflow_yaml("wf-fin", "finance"))
    return console


def test_list_notices_newest_first_with_filters_and_paging(console) -> None:
    ids = [notice(console, "run_failed", f"fail {i}") for i in range(3)]
    pending = notice(console, "writes_pending", "4 writes await approval", level="info")
    rows = console.list_notices()
    assert [r.id for r in rows] == [pending, *reversed(ids)]
    assert [r.id for r in console.list_notices(kinds=["run_failed"])] == list(reversed(ids))
    assert [r.id for r in console.list_notices(limit=2, offset=1)] == [ids[2], ids[1]]
    assert [r.id for r in console.list_notices(sort="title", descending=False)] == [pending, *ids]
    console.mark_notices_read([ids[0], pending])
    assert [r.id for r in console.list_notices(unread_only=True)] == [ids[2], ids[1]]
    with pytest.raises(BadInput, match="sort"):
        console.list_notices(sort="password")


def test_repeated_notices_are_one_row_with_a_count(console) -> None:
    first = notice(console, "run_failed", "wf: run 1 failed", group_key="run_failed:wf")
    again = notice(console, "run_failed", "wf: run 2 failed", group_key="run_failed:wf")
    assert first == again
    [row] = console.list_notices()
    assert (row.count, row.title) == (2, "wf: run 2 failed")


def test_unread_count_and_mark_all_read(console) -> None:
    for i in range(3):
        notice(console, "auto_paused", f"paused {i}", level="warning")
    assert console.unread_notice_count() == 3
    assert console.mark_notices_read([]) == 0
    assert console.mark_notices_read() == 3
    assert console.unread_notice_count() == 0
    assert console.mark_notices_read() == 0


def test_unacknowledged_failures_until_acknowledged_with_an_audit_event(
    db, finance, make_console
) -> None:
    console = finance
    run = make_run(db, "wf-fin", status="failed")
    failed = notice(console, "run_failed", "wf-fin: run failed", workflow="wf-fin", run=run.id)
    watch = notice(console, "watch_problem", "wf-fin: folder missing", workflow="wf-fin")
    notice(console, "auto_paused", "wf-fin paused itself", level="warning", workflow="wf-fin")
    console.mark_notices_read()  # reading is not acknowledging
    assert [n.id for n in console.unacknowledged_failures()] == [watch, failed]
    assert console.tray_status().unacknowledged_failures == 2

    bo = make_console("bo")
    row = bo.acknowledge_notice(failed, comment="  disk was full; cleaned up ")
    assert (row.acknowledged_by, row.read) == ("bo", True)
    assert row.acknowledged_at is not None and not row.needs_acknowledgement
    assert [n.id for n in console.unacknowledged_failures()] == [watch]
    ev = AuditEvent.select().where(AuditEvent.action == "notice.acknowledged").get()
    assert (ev.actor, ev.subject, ev.workflow, ev.run, ev.category, ev.reason) == (
        "bo",
        f"notice {failed}",
        "wf-fin",
        run.id,
        "finance",
        "disk was full; cleaned up",
    )
    assert ev.details["kind"] == "run_failed"

    with pytest.raises(Conflict, match="already acknowledged by bo"):
        console.acknowledge_notice(failed)
    assert AuditEvent.select().where(AuditEvent.action == "notice.acknowledged").count() == 1
    with pytest.raises(NotFound):
        console.acknowledge_notice(999_999)


def test_notices_since_sees_new_and_bumped_notices(console) -> None:
    old = notice(console, "run_failed", "wf: run 1 failed", group_key="g")
    Notification.update(at=dt.datetime(2020, 1, 1)).where(Notification.id == old).execute()
    mark = dt.datetime(2021, 1, 1)
    assert console.notices_since(mark) == []
    bumped = notice(console, "run_failed", "wf: run 2 failed", group_key="g")
    fresh = notice(console, "auto_paused", "wf paused itself", level="warning")
    rows = console.notices_since(mark)
    assert [(r.id, r.count) for r in rows] == [(old, 2), (fresh, 1)]
    assert bumped == old


def test_tray_status_counts_and_state_priority(db, finance, make_console) -> None:
    console = finance
    assert console.tray_status().state == "ok"
    run = make_run(db, "wf-fin")
    make_write(db, run, seq=1)
    make_write(db, run, seq=2, status="interrupted")
    make_write(db, run, seq=3, status="applied")
    # approved and being applied: it waits for the engine, not for a person
    make_write(db, run, seq=4, status="applying")
    status = console.tray_status()
    assert (status.pending_writes, status.state) == (2, "pending")

    console.pause_effect("customer_facing", "mail merge is broken")
    console.pause_category("finance", "audit in progress")
    console.pause_all("hosting incident")
    status = console.tray_status()
    assert status.paused == ["everything", "finance", "customer-facing"]
    assert status.state == "paused"

    failed = notice(console, "run_failed", "wf-fin: run failed", workflow="wf-fin")
    assert console.tray_status().state == "failure"
    console.acknowledge_notice(failed)
    assert console.tray_status().state == "paused"
    for resume in (
        console.resume_all,
        lambda r: console.resume_category("finance", r),
        lambda r: console.resume_effect("customer_facing", r),
    ):
        resume("over")
    assert console.tray_status().state == "pending"


def test_a_paused_workflow_counts_as_paused(finance) -> None:
    console = finance
    Workflow.update(
        paused=True, paused_by="policy", paused_reason="3 consecutive failed runs"
    ).where(Workflow.name == "wf-fin").execute()
    status = console.tray_status()
    assert (status.paused, status.paused_workflows, status.state) == ([], ["wf-fin"], "paused")
    [row] = console.paused_workflow_rows()
    assert (row.scope, row.name, row.paused_by, row.paused_reason) == (
        "workflow",
        "wf-fin",
        "policy",
        "3 consecutive failed runs",
    )
    console.resume_workflow("wf-fin", "fixed the input")
    assert console.tray_status().state == "ok"
