"""Failure notices: a JSON webhook and an e-mail, delivered through the HTTP and e-mail
actions' own code to real servers on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from sophmate_desktop.engine.notices import NOTIFY_SMTP_CONNECTION, FailureNotices
from sophmate_desktop.store.models import Workflow
from sophmate_desktop.store.workflows import load_workflow
from tests.support.factories import workflow_yaml


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []
    arrived = threading.Event()

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        _Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()
        _Hook.arrived.set()

    def log_message(self, *args) -> None:
        pass


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode())
        )
        self.arrived.set()
        return "250 Message accepted"


@pytest.fixture
def hook() -> Iterator[str]:
    _Hook.received = []
    _Hook.arrived = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/ops"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def mailbox() -> Iterator[tuple[_Mailbox, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = _Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def _workflow(console, targets: str):
    text = workflow_yaml().replace(
        "notify: {on_failure: [tray]}", f"notify: {{on_failure: {targets}}}"
    )
    console.import_workflow(text)
    return load_workflow(Workflow.get(Workflow.name == "wf-one"))


def test_a_failure_reaches_the_webhook_and_the_mailbox(db, console, hook, mailbox) -> None:
    box, port = mailbox
    console.save_connection(
        NOTIFY_SMTP_CONNECTION, "smtp", {"host": "127.0.0.1", "port": port, "from": "sm@x.test"}
    )
    wf = _workflow(console, f'[tray, "webhook:{hook}", "email:ops@example.test"]')
    notices = FailureNotices(db, lambda name: "unused")
    notices.deliver(wf, 17, "the disk is full")
    notices.wait(10)
    assert _Hook.arrived.is_set() and box.arrived.is_set()
    assert _Hook.received == [
        {
            "workflow": "wf-one",
            "run": 17,
            "error": "the disk is full",
            "title": "SophMate: wf-one run 17 failed",
        }
    ]
    [(sender, recipients, content)] = box.messages
    assert (sender, recipients) == ("sm@x.test", ["ops@example.test"])
    assert "Subject: SophMate: wf-one run 17 failed" in content
    assert "the disk is full" in content


def test_a_failing_notifier_is_logged_and_the_others_still_go(db, console, hook, caplog) -> None:
    # no notify-smtp connection: the e-mail notice fails, the webhook still arrives
    wf = _workflow(console, f'["email:ops@example.test", "webhook:{hook}"]')
    notices = FailureNotices(db, lambda name: "unused")
    notices.deliver(wf, 3, "boom")
    notices.wait(10)
    assert [n["run"] for n in _Hook.received] == [3]
    assert f"no connection named {NOTIFY_SMTP_CONNECTION}" in caplog.text


def test_tray_only_starts_no_delivery(db, console) -> None:
    wf = _workflow(console, "[tray]")
    notices = FailureNotices(db, lambda name: "unused")
    notices.deliver(wf, 1, "boom")
    assert "sophmate-notify" not in [t.name for t in threading.enumerate()]
