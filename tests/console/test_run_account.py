"""The plain-language account of a run, built from the audit events the engine's own
transactions write (record, claim, plan, fail, apply, recover, cancel), and retry_run.

The engine's transaction functions are called directly, one step at a time, so each
situation is exact and needs no threads; `test_account_text_is_exact` pins the words
with hand-made rows and fixed times.
"""

from __future__ import annotations

import re
import socket
from datetime import datetime

import pytest

from sophmate_desktop.console.run_account import build_account
from sophmate_desktop.domain import policy
from sophmate_desktop.domain.errors import Conflict, NotFound, PolicyRefused
from sophmate_desktop.store import workflows as store_workflows
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import AuditEvent, Run, Workflow
from sophmate_desktop.store.rows import AuditRow, RunRow, WriteRow
from sophmate_desktop.store.transitions import intake as records
from sophmate_desktop.store.transitions import outcomes, recovery
from tests.support.run_flow import HOST, WORKFLOW, Flow, command, email

DEAD_ENGINE = f"{socket.gethostname()}:{2**22 + 4321}"  # above any pid_max: never alive
CLOCK = r"at \d\d:\d\d"


@pytest.fixture
def flow(db, make_console) -> Flow:
    make_console("lead").import_workflow(WORKFLOW)  # four eyes: ana may approve
    console = make_console("ana")
    with write_transaction(db):  # arranged: a staged, enabled workflow
        Workflow.update(stage="staging", enabled=True).execute()
    return Flow(db, console)


def account_text(flow: Flow, run_id: int) -> str:
    return flow.console.run_account(run_id).text(width=10_000)


def test_succeeded_with_approvals_and_a_rejection(flow, make_console) -> None:
    run_id = flow.offer()
    flow.claim(run_id)
    assert flow.plan(run_id, [email(1), email(2), email(3)]) == "awaiting_approval"
    one, two, three = flow.writes(run_id)
    assert all(r.ok for r in flow.console.approve([one, two], "totals match"))
    assert make_console("bo").reject([three], "duplicate customer")[0].ok
    flow.apply(one)
    assert flow.apply(two) == "succeeded"

    account = flow.console.run_account(run_id)
    text = account.text(width=10_000)
    assert account.headline == f"Run {run_id} of invoice-intake succeeded"
    assert re.search(
        rf"Run {run_id} of invoice-intake started on \d{{4}}-\d\d-\d\d at \d\d:\d\d UTC "
        r"because invoices/acme-17.csv \(3.2 kB\) arrived in /srv/in\.",
        text,
    ), text
    assert "It ran in staging (the workflow is in staging) and planned 3 writes for 3 records." in (
        text
    )
    assert re.search(
        rf'ana approved 2 {CLOCK} \("totals match"\); bo rejected 1 {CLOCK} '
        r'\("duplicate customer"\)\.',
        text,
    ), text
    assert re.search(rf"The 2 approved writes were applied {CLOCK}\.", text), text
    assert re.search(rf"The run succeeded {CLOCK} \(it took [\d.]+ s\)\.", text), text
    assert "send_email to c3@example.test: rejected by bo" in account.bullets


def test_failed_after_retries_with_the_command_stderr(flow) -> None:
    run_id = flow.offer()
    diagnostics = {"exception": "InputError", "traceback": "Traceback ..."}
    for attempt in (1, 2):
        flow.claim(run_id)
        result = outcomes.fail_run(flow.db, run_id, "input file is not valid text", diagnostics)
        assert result.retried, attempt
    flow.claim(run_id)
    assert flow.plan(run_id, [command()]) == "awaiting_approval"
    [write] = flow.writes(run_id)
    flow.console.approve([write])
    error = "backup.sh exited with code 2: rsync: write failed\ndisk full\n"
    assert flow.apply(write, error=error) == "failed"

    account = flow.console.run_account(run_id)
    text = account.text(width=10_000)
    assert account.headline == f"Run {run_id} of invoice-intake failed after 3 attempts"
    assert re.search(
        rf"Attempts 1 and 2 failed {CLOCK} and were retried: input file is not valid text\. "
        r"It ran in staging",
        text,
    ), text
    assert re.search(
        rf"Write 1 \(run_command to backup.sh\) failed {CLOCK}: backup.sh exited with code 2",
        text,
    ), text
    assert re.search(rf"The run failed {CLOCK}: 1 write could not be applied\.", text), text
    assert 'The command\'s error output ends with: "rsync: write failed disk full".' in text
    # pause rule: one failed run in a row pauses the workflow, and the account says so
    assert "The workflow then paused itself (1 consecutive failed run)" in text


def test_failed_planning_uses_its_retries_and_says_why(flow) -> None:
    run_id = flow.offer()
    diagnostics = {"exception": "InputError"}
    for _attempt in range(3):
        flow.claim(run_id)
        outcomes.fail_run(flow.db, run_id, "input file /srv/in/x.csv no longer exists", diagnostics)
    text = account_text(flow, run_id)
    assert re.search(
        rf"Attempts 1 and 2 failed the same way {CLOCK} and were retried\. "
        rf"The run failed {CLOCK} because it could not read its input file: "
        r"input file /srv/in/x.csv no longer exists\. It used 2 of its 2 retries\.",
        text,
    ), text
    assert "It ran in staging (the workflow is in staging) and stopped before it planned" in text


def test_rejected(flow, make_console) -> None:
    run_id = flow.offer()
    flow.claim(run_id)
    flow.plan(run_id, [email(1), email(2)])
    make_console("bo").reject(flow.writes(run_id), "wrong supplier address")
    account = flow.console.run_account(run_id)
    text = account.text(width=10_000)
    assert account.headline == f"Run {run_id} of invoice-intake was rejected"
    assert re.search(rf'bo rejected 2 {CLOCK} \("wrong supplier address"\)\.', text), text
    assert "every write a person decided on was rejected, so nothing was written" in text


def test_held_by_a_paused_category_then_replayed(flow) -> None:
    flow.console.pause_category("finance", "month end")
    run_id = flow.offer()
    assert Run.get_by_id(run_id).status == "held"
    held = flow.console.run_account(run_id)
    assert held.headline == f"Run {run_id} of invoice-intake is held"
    assert re.search(
        r"It was held because category finance is paused by ana at [\d-]+ \d\d:\d\d UTC: "
        r"month end\.",
        held.text(width=10_000),
    ), held.text()
    assert "It will run in staging" in held.text(width=10_000)

    flow.console.resume_category("finance", "books closed", held="replay")
    flow.claim(run_id)
    flow.plan(run_id, [email(1)])
    [write] = flow.writes(run_id)
    flow.console.approve([write])
    assert flow.apply(write) == "succeeded"
    text = account_text(flow, run_id)
    assert re.search(rf'ana replayed it {CLOCK} \("books closed"\)\.', text), text
    assert re.search(rf"ana approved the write {CLOCK}\.", text), text
    assert "The approved write was applied" in text


def test_queued_run_held_by_a_pause_names_who_paused(flow) -> None:
    run_id = flow.offer()
    flow.console.pause_all("hosting incident")
    flow.console.resume_all("over", held="discard")
    account = flow.console.run_account(run_id)
    text = account.text(width=10_000)
    assert re.search(
        rf"It was waiting to start when ana paused all automation {CLOCK} "
        r'\("hosting incident"\), so it was held\. '
        rf'ana discarded it {CLOCK} \("over"\)\.',
        text,
    ), text
    assert "The run was cancelled: it never ran." in text


def test_interrupted_after_a_crash_then_marked_applied(flow, make_console) -> None:
    run_id = flow.offer()
    flow.claim(run_id)
    flow.plan(run_id, [command("notify-erp")])
    [write] = flow.writes(run_id)
    flow.console.approve([write])
    taken, why = outcomes.begin_apply(flow.db, write, DEAD_ENGINE)
    assert taken is not None, why
    assert recovery.recover(flow.db, HOST)["writes_interrupted"] == 1

    waiting = account_text(flow, run_id)
    assert re.search(
        rf"The engine stopped while applying write 1 \(run_command to notify-erp\) {CLOCK}; "
        "whether it took effect is unknown, so it waits in the inbox for a person to mark "
        "it applied or retry it.",
        waiting,
    ), waiting
    make_console("bo").mark_applied(write, "saw it in the ERP")
    text = account_text(flow, run_id)
    assert re.search(
        rf"bo marked write 1 \(run_command to notify-erp\) as applied {CLOCK} "
        r'\("saw it in the ERP"\)\.',
        text,
    ), text
    assert "waits in the inbox" not in text
    assert "The run succeeded" in text


def test_cancelled_by_a_kill_switch(flow) -> None:
    run_id = flow.offer()
    flow.claim(run_id)
    flow.console.pause_category("finance", "hosting incident")
    [switch] = store_workflows.switch_states(flow.db)
    assert outcomes.cancel_run(flow.db, run_id, policy.switch_refusal_text(switch))
    account = flow.console.run_account(run_id)
    assert account.headline == f"Run {run_id} of invoice-intake was cancelled by a kill switch"
    assert re.search(
        rf"A kill switch stopped it {CLOCK}: category finance is paused by ana at "
        r"[\d-]+ \d\d:\d\d UTC: hosting incident\.",
        account.text(width=10_000),
    ), account.text()


def test_retry_run_queues_a_new_attempt_of_the_same_file(flow) -> None:
    run_id = flow.offer()
    for _attempt in range(3):
        flow.claim(run_id)
        outcomes.fail_run(flow.db, run_id, "boom", {"exception": "RuntimeError"})
    flow.console.resume_workflow("invoice-intake", "fixed the input")  # it paused itself
    row = flow.console.retry_run(run_id, "fixed the input")
    assert (row.status, row.trigger_kind, row.trigger_path, row.mode) == (
        "queued",
        "retry",
        "/srv/in/invoices/acme-17.csv",
        "staging",
    )
    assert records.next_queued(flow.db) == [row.id]  # what the engine picks up
    retried = AuditEvent.get(AuditEvent.action == "run.retried")
    assert (retried.run, retried.actor, retried.reason) == (run_id, "ana", "fixed the input")
    assert retried.details["new_run"] == row.id
    assert re.search(
        rf'ana retried it {CLOCK} as run {row.id} \("fixed the input"\)\.',
        account_text(flow, run_id),
    )
    assert re.search(
        rf"Run {row.id} of invoice-intake is a retry of run {run_id}, asked for by ana "
        rf'on [\d-]+ at \d\d:\d\d UTC \("fixed the input"\) on /srv/in/invoices/acme-17.csv '
        r"\(3.2 kB\)\.",
        account_text(flow, row.id),
    ), account_text(flow, row.id)


def test_retry_run_refusals(flow) -> None:
    run_id = flow.offer()
    with pytest.raises(Conflict, match="only failed runs can be retried"):
        flow.console.retry_run(run_id)
    with pytest.raises(NotFound):
        flow.console.retry_run(99_999)
    flow.claim(run_id)
    flow.plan(run_id, [email(1), command()])
    first, second = flow.writes(run_id)
    flow.console.approve([first, second])
    flow.apply(first)
    assert flow.apply(second, error="backup.sh exited with code 1") == "failed"
    with pytest.raises(PolicyRefused, match="1 of its writes were already applied"):
        flow.console.retry_run(run_id)


def test_retry_while_paused_is_held(flow) -> None:
    run_id = flow.offer()
    flow.claim(run_id)
    outcomes.fail_run(flow.db, run_id, "boom", {})
    for _ in range(2):
        flow.claim(run_id)
        outcomes.fail_run(flow.db, run_id, "boom", {})
    flow.console.resume_workflow("invoice-intake", "ok")
    flow.console.pause_category("finance", "audit week")
    row = flow.console.retry_run(run_id)
    assert row.status == "held"
    assert "It was held because category finance is paused by ana" in account_text(flow, row.id)


def _at(minute: int, second: int = 0) -> str:
    return f"2026-11-27T09:{minute:02}:{second:02}.000000Z"


def test_account_text_is_exact() -> None:
    """The issue's example, word for word, from hand-made rows."""
    when = datetime(2026, 11, 27, 9, 14)
    run = RunRow(
        id=42, workflow="invoice-intake", category="finance", revision=1,
        trigger_kind="file", trigger_path="/srv/in/invoices/acme-17.csv", mode="staging",
        status="succeeded", attempt=1, queued_at=when, started_at=when,
        finished_at=datetime(2026, 11, 27, 9, 21), error=None, duration_ms=420_000,
        writes=3, affected_records=3, bytes_read=3200, bytes_written=0, cost=0.0,
        reviewed=False,
    )  # fmt: skip
    writes = [
        WriteRow(
            id=n, run_id=42, workflow="invoice-intake", category="finance", seq=n,
            kind="send_email", effect="email", target=f"c{n}@example.test", summary="",
            preview="", customer_facing=n == 1, status=status, created_at=when,
            decided_by=by, decided_at=when, comment=None, applied_at=None, error=None,
        )
        for n, status, by in ((1, "applied", "ana"), (2, "applied", "ana"), (3, "rejected", "bo"))
    ]  # fmt: skip

    def ev(i, at, actor, action, subject="run 42", reason=None, details=None):
        return AuditRow(i, at, actor, action, subject, "finance", "invoice-intake", 42,
                        reason, details or {})  # fmt: skip

    events = [
        ev(1, _at(14), "engine", "run.queued", details={"trigger": "file", "size": 3200}),
        ev(2, _at(14, 1), "engine", "run.started"),
        ev(3, _at(14, 2), "engine", "run.planned", details={"writes": 3}),
        ev(4, _at(20), "ana", "write.approved", "write 1", "totals match"),
        ev(5, _at(20), "ana", "write.approved", "write 2", "totals match"),
        ev(6, _at(20, 5), "engine", "write.applied", "write 1"),
        ev(7, _at(20, 6), "engine", "write.applied", "write 2"),
        ev(8, _at(21), "bo", "write.rejected", "write 3", "duplicate customer"),
    ]
    account = build_account(run, writes, events, stage="staging", watch_folder="/srv/in")
    assert account.text(width=10_000) == (
        "Run 42 of invoice-intake succeeded\n"
        "\n"
        "Run 42 of invoice-intake started on 2026-11-27 at 09:14 UTC because "
        "invoices/acme-17.csv (3.2 kB) arrived in /srv/in. It ran in staging (the workflow "
        "is in staging) and planned 3 writes for 3 records.\n"
        "\n"
        'ana approved 2 at 09:20 ("totals match"); bo rejected 1 at 09:21 ("duplicate '
        'customer"). The 2 approved writes were applied at 09:20.\n'
        "\n"
        "The run succeeded at 09:21 (it took 7 min 0 s).\n"
        "\n"
        "Planned writes:\n"
        "  - send_email to c1@example.test (customer-facing): applied\n"
        "  - send_email to c2@example.test: applied\n"
        "  - send_email to c3@example.test: rejected by bo"
    )
    assert account.to_dict()["headline"] == "Run 42 of invoice-intake succeeded"
