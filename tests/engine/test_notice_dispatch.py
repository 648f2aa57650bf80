"""Notices reach people through apprise: a JSON webhook and an SMTP server on 127.0.0.1
receive (or refuse) them; each delivery's outcome is stored with the notice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sophmate_desktop.engine.notice_dispatch import NoticeDispatcher
from sophmate_desktop.store import notice_outbox
from sophmate_desktop.store.escalations import raise_escalations
from sophmate_desktop.store.models import NoticeDelivery, Notification
from sophmate_desktop.store.sql import queued_transaction
from tests.support.factories import fail, workflow_yaml
from tests.support.notices import REFUSAL, RefusingSmtp, Webhook


@pytest.fixture
def hook() -> Iterator[Webhook]:
    server = Webhook().start()
    yield server
    server.stop()


@pytest.fixture
def refusing_smtp() -> Iterator[RefusingSmtp]:
    server = RefusingSmtp().start()
    yield server
    server.stop()


@pytest.fixture
def no_backoff(monkeypatch) -> None:
    monkeypatch.setattr(notice_outbox, "BACKOFF_S", (0.0, 0.0, 0.0))


def _import(console, targets: str, name: str = "wf-one", owner: str = "ops-lead") -> None:
    text = workflow_yaml(name, owner=owner).replace(
        "notify: {on_failure: [tray]}", f"notify: {{on_failure: {targets}}}"
    )
    console.import_workflow(text)


def _deliveries() -> list[NoticeDelivery]:
    return list(NoticeDelivery.select().order_by(NoticeDelivery.id))


def _send_all(db, dispatcher: NoticeDispatcher) -> None:
    for _ in range(notice_outbox.MAX_ATTEMPTS + 1):
        dispatcher.send_due()


def test_a_failure_reaches_the_webhook_with_what_another_operator_needs(db, console, hook) -> None:
    _import(console, f'[tray, "{hook.url()}"]')
    run = fail(db, "wf-one", "smtp.example.test:587 said 554 relay denied")
    [delivery] = _deliveries()
    assert (delivery.target, delivery.status) == (hook.url(), "pending")
    NoticeDispatcher(db, lambda name: "unused").send_due()
    [received] = hook.wait_for(1)
    assert received["title"] == f"wf-one: run {run.id} failed"
    message = received["message"]
    for needed in (
        "smtp.example.test:587 said 554 relay denied",
        "Workflow: wf-one (owner: ops-lead",
        f"Run: {run.id}",
        "Already applied: nothing",
        "Rollback: Delete the written file.",
        f"runs show {run.id}",
    ):
        assert needed in message
    [delivery] = _deliveries()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, None)


def test_a_refused_email_is_retried_then_failed_with_the_servers_text(
    db, console, refusing_smtp, no_backoff
) -> None:
    console.save_connection("ops-mail", "smtp", refusing_smtp.settings())
    console.set_notify_email_connection("ops-mail")
    _import(console, '["email:ops@example.test"]')
    fail(db, "wf-one", "boom")
    _send_all(db, NoticeDispatcher(db, lambda name: "unused"))
    [delivery] = _deliveries()
    assert (delivery.status, delivery.attempts) == ("failed", notice_outbox.MAX_ATTEMPTS)
    assert "550" in delivery.last_error and REFUSAL in delivery.last_error


def test_email_without_a_configured_connection_says_which_setting(db, console, no_backoff) -> None:
    _import(console, '["email:ops@example.test"]')
    fail(db, "wf-one", "boom")
    _send_all(db, NoticeDispatcher(db, lambda name: "unused"))
    [delivery] = _deliveries()
    assert delivery.status == "failed"
    assert "notify_email_connection" in delivery.last_error


def test_a_webhook_error_is_stored_with_status_and_body_and_the_secret_masked(
    db, console, no_backoff, memory_keyring
) -> None:
    server = Webhook(status=503, answer=b"queue full, try later").start()
    try:
        console.secrets.set("hook-token", "tok-s3cr3t-value")
        target = f"json://127.0.0.1:{server.port}/hooks/" + "${secret:hook-token}"
        _import(console, f'["{target}"]')
        fail(db, "wf-one", "boom")
        _send_all(db, NoticeDispatcher(db, console.secrets.get))
        [delivery] = _deliveries()
    finally:
        server.stop()
    assert server.paths[0] == "/hooks/tok-s3cr3t-value"  # expanded only when sending
    assert delivery.target == target  # stored as written
    assert delivery.status == "failed" and delivery.attempts == notice_outbox.MAX_ATTEMPTS
    assert "503" in delivery.last_error and "queue full, try later" in delivery.last_error
    assert "tok-s3cr3t-value" not in delivery.last_error


def test_a_bad_target_fails_at_once_and_the_other_still_goes(db, console, hook, no_backoff) -> None:
    _import(console, f'["nosuchscheme://x", "{hook.url()}"]')
    fail(db, "wf-one", "boom")
    _send_all(db, NoticeDispatcher(db, lambda name: "unused"))
    bad, good = _deliveries()
    assert bad.status == "failed" and "not an apprise URL" in bad.last_error
    assert good.status == "sent" and len(hook.wait_for(1)) == 1


def test_tray_only_queues_nothing(db, console) -> None:
    _import(console, "[tray]")
    fail(db, "wf-one", "boom")
    assert _deliveries() == []


def test_escalations_are_notified_once_per_flag_to_the_targets(db, console, hook) -> None:
    _import(console, f'["{hook.url()}"]', owner="")
    with queued_transaction(db):
        first = raise_escalations()
        again = raise_escalations()
    assert again == []
    titles = [Notification.get_by_id(i).title for i in first]
    assert titles == ["wf-one escalated: has no visible owner"]
    NoticeDispatcher(db, lambda name: "unused").send_due()
    assert [m["title"] for m in hook.wait_for(1)] == titles
    assert [d.status for d in _deliveries()] == ["sent"]


def test_the_engine_sends_a_planning_failure_off_its_threads(
    sqlite_db, sconsole, make_engine, watched_folder, tmp_path, hook
):
    from sophmate_desktop.store.models import Run
    from tests.support.engine import wait_until, workflow_doc

    doc = workflow_doc(
        "intake", watched_folder, tmp_path / "out", read="json", retry=0, patterns=("*.json",)
    )
    doc = doc.replace("on_failure: [tray]", f'on_failure: [tray, "{hook.url()}"]')
    sconsole.import_workflow(doc)
    sconsole.enable_workflow("intake")
    engine = make_engine(sqlite_db, sconsole)
    (watched_folder / "bad.json").write_text("{not json")
    [run] = wait_until(lambda: list(Run.select()), 20, "a run")
    assert engine.wait_for_run(run.id, 20) == "failed"
    [received] = hook.wait_for(1)
    assert received["title"] == f"intake: run {run.id} failed"
    assert "Workflow: intake (owner: " in received["message"]
    wait_until(lambda: [d.status for d in _deliveries()] == ["sent"], 10, "the outcome")


def test_the_running_engine_raises_an_escalation_once_and_says_who_was_told(
    sqlite_db, sconsole, make_engine, hook
):
    from tests.support.engine import wait_until

    make_engine(sqlite_db, sconsole)
    _import(sconsole, f'["{hook.url()}"]', owner="")
    [received] = hook.wait_for(1)
    assert received["title"] == "wf-one escalated: has no visible owner"
    [note] = Notification.select().where(Notification.kind == "escalation")
    wait_until(lambda: [d.status for d in _deliveries()] == ["sent"], 10, "the outcome")
    assert sconsole.notices_with_deliveries()[0]["deliveries"][0]["target"] == hook.url()
    assert note.group_key == "escalation:wf-one:no_owner"


def test_a_notifier_that_hangs_is_given_up_with_the_reason_stored(db, console):
    import socket

    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        target = f"json://127.0.0.1:{silent.getsockname()[1]}/hook?rto=0.5&cto=0.5"
        _import(console, f'["{target}"]')
        fail(db, "wf-one", "boom")
        NoticeDispatcher(db, lambda name: "unused").send_due()
    [delivery] = _deliveries()
    assert (delivery.status, delivery.attempts) == ("pending", 1)  # tried again later
    assert "Read timed out. (read timeout=0.5)" in delivery.last_error
