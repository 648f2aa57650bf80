"""One address per recipient field: the parser, and the workflow file's literal values
and notice targets (issue 14 item 8). Templated values are checked when rendered
(tests/engine/actions/test_email_recipients.py)."""

from __future__ import annotations

import re

import pytest

from sophmate_desktop.domain.addresses import AddressError, one_address
from sophmate_desktop.domain.workflow_file import WorkflowFileError, parse_workflow_yaml

ONE = [
    ("a@x.example", "a@x.example", "a@x.example"),
    ("Ops <ops@x.example>", "Ops <ops@x.example>", "ops@x.example"),
    ('"Doe, John" <j@x.example>', '"Doe, John" <j@x.example>', "j@x.example"),
    ("<a@x.example>", "a@x.example", "a@x.example"),
    ("  a@x.example  ", "a@x.example", "a@x.example"),
    ("Zoë <zoe@x.example>", "Zoë <zoe@x.example>", "zoe@x.example"),
]

REFUSED = [
    ("a@x, evil@y", "holds 2 addresses"),
    ("a@x.example; evil@y.example", "holds 2 addresses"),
    ("a@x.example,b@y.example,c@z.example", "holds 3 addresses"),
    ("Ops <ops@x.example> evil@y.example", "holds 2 addresses"),
    ("team: a@x.example, b@y.example;", "holds 2 addresses"),
    ("team: a@x.example;", "is a group of addresses"),
    ("undisclosed-recipients: ;", "is a group of addresses"),
    ("", "is empty"),
    ("   ", "is empty"),
    ("nobody", "is not an e-mail address"),
    ("a@", "is not an e-mail address"),
    ("@x.example", "is not an e-mail address"),
    ("a@b@c.example", "is not an e-mail address"),
    ("<>", "is not an e-mail address"),
    ("a@x.example\nBcc: victim@y.example", "line break"),
    ("a@x.example\r\nBcc: victim@y.example", "line break"),
    ("a@x.example\x00", "control character"),
    ("${secret:smtp-pass}", "a secret reference cannot be used as an address"),
    ("a" * 990 + "@x.example", "longer than 998"),
]


@pytest.mark.parametrize(("text", "formatted", "spec"), ONE)
def test_one_address_is_taken(text: str, formatted: str, spec: str) -> None:
    address = one_address(text)
    assert (str(address), address.addr_spec) == (formatted, spec)


@pytest.mark.parametrize(("text", "why"), REFUSED)
def test_anything_but_one_address_is_refused(text: str, why: str) -> None:
    with pytest.raises(AddressError, match=why.replace("$", r"\$")):
        one_address(text)


def test_a_bare_address_has_no_display_name() -> None:
    assert one_address("ops@x.example", bare=True).addr_spec == "ops@x.example"
    with pytest.raises(
        AddressError, match=re.escape("expected a bare address such as 'ops@x.example'")
    ):
        one_address("Ops <ops@x.example>", bare=True)


HEAD = "name: demo\ncategory: ops\n"


def _errors(text: str) -> list[str]:
    with pytest.raises(WorkflowFileError) as info:
        parse_workflow_yaml(text)
    return [str(e) for e in info.value.errors]


def _email(to: str, cc: str = "") -> str:
    return (
        HEAD + "steps:\n  - action: send_email\n    connection: smtp\n"
        f"    to: {to}\n" + (f"    cc: {cc}\n" if cc else "") + "    subject: s\n    body: b\n"
    )


@pytest.mark.parametrize(
    ("to", "cc", "expected"),
    [
        ('"a@x.example, evil@y.example"', "", "steps[0].to: 'a@x.example, evil@y.example' holds 2"),
        ('["a@x.example", "b@y.example; c@z.example"]', "", "steps[0].to[1]: 'b@y.example; c@"),
        ('"ops@x.example"', '"g: a@x.example, b@y.example;"', "steps[0].cc: 'g: a@x.example, b"),
        ('"nobody"', "", "steps[0].to: 'nobody' is not an e-mail address"),
    ],
)
def test_a_literal_recipient_field_takes_one_address(to: str, cc: str, expected: str) -> None:
    found = _errors(_email(to, cc))
    assert any(e.startswith(expected) for e in found), found


def test_a_list_of_single_addresses_and_templates_are_accepted() -> None:
    doc = _email('["Ann <ann@x.example>", "{{ row.email }}", "b@y.example"]', '"{{ row.cc }}"')
    (step,) = parse_workflow_yaml(doc).steps
    assert step.params["to"] == ["Ann <ann@x.example>", "{{ row.email }}", "b@y.example"]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("email:a@x.example,evil@y.example", "holds 2 addresses"),
        ("email:a@x.example;evil@y.example", "holds 2 addresses"),
        ("email:Ops <ops@x.example>", "expected a bare address"),
        ("email:nobody", "is not an e-mail address"),
    ],
)
def test_a_notice_e_mail_target_is_one_bare_address(target: str, expected: str) -> None:
    doc = HEAD + "steps:\n  - action: copy_file\n    to: out/x\n"
    doc += f"notify: {{on_failure: [tray, {target!r}]}}\n"
    found = _errors(doc)
    assert any(e.startswith("notify.on_failure[1]: ") and expected in e for e in found), found
    ok = doc.replace(target, "email:ops@x.example")
    assert parse_workflow_yaml(ok).notify.on_failure == ("tray", "email:ops@x.example")
