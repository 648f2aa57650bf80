"""One address per recipient field (issue 14 item 8): a CSV cell "a@x, evil@y" used as
`to` fails the plan naming the step, the field, the row and the value; a list of
recipients is a list in the file. Real SMTP server on 127.0.0.1, real engine runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sophmate_desktop.engine.actions import ActionError, apply_write, plan_step
from sophmate_desktop.store.models import Write
from tests.support.actions import step
from tests.support.engine import to_staging, wait_until, workflow_doc
from tests.support.mail import SmtpServer

EVIL = "ann@example.test, evil@attacker.example"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(sender="ops@example.test").start()
    yield server
    server.stop()


def _mail(**params):
    base = dict(
        connection="mail",
        to="{{ row.email }}",
        subject="Invoice {{ row.number }}",
        body="Received.",
        for_each="rows",
    )
    base.update(params)
    return step("send_email", **base)


ROWS = [
    {"number": "1", "email": "bob@example.test", "cc": "carol@example.test"},
    {"number": "2", "email": EVIL, "cc": "carol@example.test"},
]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, f"steps[1].to: {EVIL!r} holds 2 addresses"),
        ({"to": ["{{ row.cc }}", "{{ row.email }}"]}, f"steps[1].to[1]: {EVIL!r} holds 2"),
        ({"cc": "{{ row.email }}", "to": "x@example.test"}, f"steps[1].cc: {EVIL!r} holds 2"),
        ({"cc": ["{{ row.cc }}", "{{ row.email }}"]}, f"steps[1].to: {EVIL!r} holds 2"),
    ],
)
def test_a_value_holding_two_addresses_fails_the_plan(make_plan_ctx, smtp, params, expected):
    ctx = make_plan_ctx(input=ROWS, connections={"mail": smtp.settings()})
    with pytest.raises(ActionError) as info:
        plan_step(_mail(**params), ctx, 1)
    message = str(info.value)
    assert message.startswith(expected), message
    assert message.endswith(" (row 2)")
    assert "to send to several, write the field as a list" in message


@pytest.mark.parametrize(
    ("email", "why"),
    [
        ("", "is empty"),
        ("team: a@example.test, b@example.test;", "holds 2 addresses"),
        ("undisclosed: ;", "is a group of addresses"),
        ("a@example.test\nBcc: victim@example.test", "may not contain a line break"),
        ("a@example.test;evil@attacker.example", "holds 2 addresses"),
    ],
)
def test_groups_empty_values_and_injections_are_refused(make_plan_ctx, smtp, email, why):
    rows = [{"number": "1", "email": email}]
    ctx = make_plan_ctx(input=rows, connections={"mail": smtp.settings()})
    with pytest.raises(ActionError, match=rf"^steps\[0\]\.to: .* {why}"):
        plan_step(_mail(), ctx, 0)


def test_a_sender_with_two_addresses_is_refused(make_plan_ctx, smtp):
    conns = {"mail": {**smtp.settings(), "from": "ops@example.test, evil@attacker.example"}}
    ctx = make_plan_ctx(input=ROWS[:1], connections=conns)
    with pytest.raises(ActionError, match=r"^steps\[0\]\.connection: the `from` of 'mail': "):
        plan_step(_mail(), ctx, 0)


def test_a_list_sends_to_each_element_once(make_plan_ctx, make_apply_ctx, smtp):
    conns = {"mail": smtp.settings()}
    mail = _mail(to=["{{ row.email }}", "Carol <{{ row.cc }}>"], cc=["audit@example.test"])
    (w,) = plan_step(mail, make_plan_ctx(input=ROWS[:1], connections=conns), 0)
    assert w.payload["to"] == ["bob@example.test", "Carol <carol@example.test>"]
    result = apply_write(w.kind, w.payload, make_apply_ctx(connections=conns))
    assert "sent to 3 recipient(s)" in result.output
    (msg,) = smtp.received
    assert msg["To"] == "bob@example.test, Carol <carol@example.test>"
    assert msg["Cc"] == "audit@example.test"
    assert msg["X-RcptTo"] == "bob@example.test, carol@example.test, audit@example.test"


def test_a_stored_payload_with_two_addresses_is_not_sent(make_plan_ctx, make_apply_ctx, smtp):
    conns = {"mail": smtp.settings()}
    (w,) = plan_step(_mail(), make_plan_ctx(input=ROWS[:1], connections=conns), 0)
    forged = {**w.payload, "to": [EVIL]}  # e.g. planned by an older version
    with pytest.raises(ActionError, match=r"^to: .* holds 2 addresses"):
        apply_write(w.kind, forged, make_apply_ctx(connections=conns))
    assert smtp.received == []


def _csv(tmp_path: Path, name: str, rows: list[tuple[str, str]]) -> Path:
    path = tmp_path / name
    path.write_text("number,email\n" + "".join(f'{n},"{e}"\n' for n, e in rows))
    return path


def test_an_engine_run_with_a_bad_row_fails_before_sending(
    sqlite_db, sconsole, make_engine, smtp, tmp_path
):
    sconsole.save_connection("mail", "smtp", smtp.settings(), staging_settings=smtp.settings())
    steps = """\
  - action: send_email
    connection: mail
    for_each: rows
    to: ["{{ row.email }}", "archive@example.test"]
    subject: "Invoice {{ row.number }}"
    body: "Received."
"""
    sconsole.import_workflow(
        workflow_doc("mailer", None, tmp_path / "out", steps=steps, read="csv")
    )
    engine = make_engine(sqlite_db, sconsole, watch=False)
    good = _csv(tmp_path, "good.csv", [("1", "bob@example.test")])
    to_staging(sconsole, engine, "mailer", good)
    bad = _csv(tmp_path, "bad.csv", [("1", "bob@example.test"), ("2", EVIL)])
    run_id = engine.run_now("mailer", bad)
    assert engine.wait_for_run(run_id, 30, until=("failed", "awaiting_approval")) == "failed"
    error = sconsole.get_run(run_id).error
    assert f"steps[0].to[0]: {EVIL!r} holds 2 addresses" in error
    assert "(row 2)" in error
    assert not Write.select().where(Write.run == run_id).exists()
    run_id = engine.run_now("mailer", good)
    assert engine.wait_for_run(run_id, 30) == "awaiting_approval"
    (write,) = sconsole.list_inbox()
    sconsole.approve([write.id])
    assert engine.wait_for_run(run_id, 30, until=("succeeded", "failed")) == "succeeded"
    wait_until(lambda: smtp.received, 10, "the message")
    assert [m["X-RcptTo"] for m in smtp.received] == ["bob@example.test, archive@example.test"]
