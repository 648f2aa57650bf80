"""send_email through a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from sophmate_desktop.engine.actions import ActionError, apply_write, get_action, plan_step
from tests.support.actions import SECRETS, step


@dataclass
class Mailbox:
    port: int
    messages: list[tuple[str, list[str], Message]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content))
        )
        return "250 Message accepted"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=password == SECRETS["smtp-pass"], handled=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(_free_port())
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=box.port,
        authenticator=box.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    yield box
    controller.stop()


def _settings(box: Mailbox, **extra: Any) -> dict[str, Any]:
    settings = {
        "host": "127.0.0.1",
        "port": box.port,
        "from": "ops@example.test",
        "username": "ops",
        "secret_ref": "smtp-pass",
        "timeout_s": 5,
    }
    settings.update(extra)
    return settings


def _email_step(**extra: Any):
    params = dict(
        connection="supplier-smtp",
        to="{{ row.email }}",
        cc=["audit@example.test"],
        subject="Invoice {{ row.number }} received",
        body="Dear supplier,\nwe received invoice {{ row.number }}.\n",
        customer_facing=True,
        for_each="rows",
    )
    params.update(extra)
    return step("send_email", **params)


ROWS = [
    {"number": "101", "email": "Ann Supplier <ann@example.test>"},
    {"number": "102", "email": "bob@example.test"},
]


def test_plan_previews_each_message_as_it_will_be_sent(make_plan_ctx, mailbox):
    ctx = make_plan_ctx(input=ROWS, connections={"supplier-smtp": _settings(mailbox)})
    writes = plan_step(_email_step(), ctx, 1)
    assert [w.records for w in writes] == [1, 1]
    assert writes[0].preview == (
        "From: ops@example.test\n"
        "To: Ann Supplier <ann@example.test>\n"
        "Cc: audit@example.test\n"
        "Subject: Invoice 101 received\n"
        "\n"
        "Dear supplier,\nwe received invoice 101.\n"
    )
    assert writes[1].payload == {
        "connection": "supplier-smtp",
        "from": "ops@example.test",
        "to": ["bob@example.test"],
        "cc": ["audit@example.test"],
        "subject": "Invoice 102 received",
        "body": "Dear supplier,\nwe received invoice 102.\n",
    }
    assert all(w.customer_facing and w.sendable and w.effect == "email" for w in writes)
    assert get_action("send_email").idempotent is False
    assert mailbox.messages == []


def test_apply_sends_the_message_with_a_message_id_from_the_key(
    make_plan_ctx, make_apply_ctx, mailbox
):
    conns = {"supplier-smtp": _settings(mailbox)}
    (w, _) = plan_step(_email_step(), make_plan_ctx(input=ROWS, connections=conns), 0)
    result = apply_write(w.kind, w.payload, make_apply_ctx("run7-w3", connections=conns))
    (sender, rcpts, msg) = mailbox.messages[0]
    assert sender == "ops@example.test"
    assert rcpts == ["ann@example.test", "audit@example.test"]
    assert msg["Message-ID"] == "<run7-w3@sophmate-desktop>"
    assert msg["Subject"] == "Invoice 101 received"
    body = msg.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert body == "Dear supplier,\nwe received invoice 101.\n"
    assert mailbox.logins == [("ops", SECRETS["smtp-pass"])]
    assert "<run7-w3@sophmate-desktop>" in result.output
    assert SECRETS["smtp-pass"] not in result.output


def test_a_wrong_password_fails_without_showing_it(make_plan_ctx, make_apply_ctx, mailbox):
    plan_conns = {"supplier-smtp": _settings(mailbox)}
    apply_conns = {"supplier-smtp": _settings(mailbox, secret_ref="db-pass")}
    (w, _) = plan_step(_email_step(), make_plan_ctx(input=ROWS, connections=plan_conns), 0)
    with pytest.raises(ActionError) as info:
        apply_write(w.kind, w.payload, make_apply_ctx(connections=apply_conns))
    assert "535" in str(info.value)
    assert SECRETS["db-pass"] not in str(info.value)
    assert mailbox.messages == []


def test_staging_without_staging_settings_is_previewed_never_sent(make_plan_ctx, mailbox):
    ctx = make_plan_ctx(mode="staging", input=ROWS, connections={"supplier-smtp": {}})
    writes = plan_step(_email_step(), ctx, 0)
    assert [w.sendable for w in writes] == [False, False]
    assert writes[0].preview.startswith(
        "(previewed, not sent: connection 'supplier-smtp' has no staging settings)\n"
        "From: (the staging sender of connection 'supplier-smtp')\n"
    )


def test_a_header_injection_through_data_is_refused(make_plan_ctx, mailbox):
    rows = [{"number": "1\nBcc: victim@example.test", "email": "a@example.test"}]
    ctx = make_plan_ctx(input=rows, connections={"supplier-smtp": _settings(mailbox)})
    with pytest.raises(ActionError, match=r"^steps\[0\]\.subject: may not contain a line break"):
        plan_step(_email_step(), ctx, 0)


def test_a_recipient_that_is_not_an_address_is_refused(make_plan_ctx, mailbox):
    ctx = make_plan_ctx(
        input=[{"number": "1", "email": "nobody"}],
        connections={"supplier-smtp": _settings(mailbox)},
    )
    with pytest.raises(ActionError, match=r"^steps\[0\]\.to: 'nobody' is not an e-mail address"):
        plan_step(_email_step(), ctx, 0)


def test_a_staging_email_says_it_goes_to_the_staging_server(make_plan_ctx, mailbox):
    ctx = make_plan_ctx(
        mode="staging", input=ROWS, connections={"supplier-smtp": _settings(mailbox)}
    )
    writes = plan_step(_email_step(), ctx, 0)
    assert [w.sendable for w in writes] == [True, True]
    assert writes[0].preview.startswith(
        f"(staging: sent through the staging server 127.0.0.1:{mailbox.port} of connection "
        "'supplier-smtp')\nFrom: "
    )
    production = make_plan_ctx(input=ROWS, connections={"supplier-smtp": _settings(mailbox)})
    assert plan_step(_email_step(), production, 0)[0].preview.startswith("From: ")
