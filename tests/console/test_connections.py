"""A provider change pauses the workflows that use it, audited, notified, review due."""

from __future__ import annotations

import pytest

from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.store.models import AuditEvent, Notification, Workflow
from tests.support.factories import workflow_yaml

HTTP_STEP = """\
  - action: http_request
    connection: status-api
    path: /notices
    body: "{{ file.name }}"
"""


def uses_connection(name: str, pause_on_change: bool = True) -> str:
    text = workflow_yaml(name).replace("approval:", HTTP_STEP + "approval:", 1)
    if not pause_on_change:
        text = text.replace(
            "pause: {consecutive_failures: 3}",
            "pause: {consecutive_failures: 3, on_provider_change: false}",
        )
    return text


def test_connection_change_pauses_users_and_makes_review_due(console) -> None:
    console.save_connection("status-api", "http", {"base_url": "http://127.0.0.1:1/a"})
    console.import_workflow(uses_connection("wf-http"))
    console.import_workflow(uses_connection("wf-keeps-running", pause_on_change=False))
    console.import_workflow(workflow_yaml("wf-unrelated"))
    console.save_connection("status-api", "http", {"base_url": "http://127.0.0.1:1/b"})

    paused = {wf.name: wf.paused for wf in Workflow.select()}
    assert paused == {"wf-http": True, "wf-keeps-running": False, "wf-unrelated": False}
    wf = Workflow.get(Workflow.name == "wf-http")
    assert (wf.paused_by, wf.paused_reason) == ("policy", "connection status-api changed")
    assert wf.last_provider_change_at is not None
    ev = AuditEvent.get(AuditEvent.action == "workflow.auto_paused")
    assert (ev.workflow, ev.actor, ev.details) == (
        "wf-http",
        "policy",
        {"cause": "provider_change", "connection": "status-api"},
    )
    due = {e.workflow for e in AuditEvent.select().where(AuditEvent.action == "review.due")}
    assert due == {"wf-http", "wf-keeps-running"}
    note = Notification.get(Notification.kind == "auto_paused")
    assert note.workflow == "wf-http" and "connection status-api changed" in note.title


def test_unchanged_connection_pauses_nothing(console) -> None:
    console.save_connection("status-api", "http", {"base_url": "http://127.0.0.1:1/a"})
    console.import_workflow(uses_connection("wf-http"))
    console.save_connection("status-api", "http", {"base_url": "http://127.0.0.1:1/a"})
    assert not Workflow.get(Workflow.name == "wf-http").paused


def test_inline_secret_in_settings_is_refused(console) -> None:
    with pytest.raises(BadInput, match=r"settings\.password: secrets are kept in the keyring"):
        console.save_connection("smtp", "smtp", {"host": "127.0.0.1", "password": "hunter22"})
