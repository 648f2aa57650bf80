"""Workflow files: strict parsing, every validation error path, export round trips."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sophmate_desktop.resources
from sophmate_desktop.domain import policy
from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.workflow import (
    ApprovalSpec,
    GraduationSpec,
    InputSpec,
    NotifySpec,
    OutputSpec,
    PauseSpec,
    RetrySpec,
    StepSpec,
    TriggerSpec,
    WorkflowDefinition,
)
from sophmate_desktop.domain.workflow_file import (
    FieldError,
    WorkflowFileError,
    definition_from_dict,
    definition_to_dict,
    definition_to_yaml,
    parse_workflow_yaml,
)

EXAMPLES = Path(sophmate_desktop.resources.__file__).parent / "workflows"

# DESIGN.md section 12, verbatim.
DESIGN_EXAMPLE = """\
name: invoice-intake
category: finance
owner: ops-lead
description: File new supplier invoices and confirm receipt to the supplier.
trigger: {folder: ~/invoices/incoming, patterns: ["*.csv"], ignore: ["*.tmp"],
          events: [created, moved], settle_ms: 500}
input: {read: csv, max_bytes: 10485760}
output: {paths: [~/accounting/inbox], staging_paths: [~/accounting/staging]}
steps:
  - action: copy_file
    to: "{{ output.path }}/{{ file.stem }}-{{ run.id }}{{ file.suffix }}"
  - action: send_email
    connection: supplier-smtp
    for_each: rows                    # one write per CSV row = affected records
    to: "{{ row.email }}"
    subject: "Invoice {{ row.number }} received"
    body: "We received invoice {{ row.number }}."
    customer_facing: true
approval: {mode: until_reviewed, reviewed_runs: 10}
graduation: {staging_runs: 5}
retry: {limit: 2, backoff_s: 30}
notify: {on_failure: [tray, "email:ops@example.test"]}
pause: {consecutive_failures: 3, on_provider_change: true}
rollback: Remove the copies listed in the run's writes; tell suppliers by phone.
"""

HEAD = "name: demo\ncategory: ops\n"
COPY_STEP = "steps:\n  - action: copy_file\n    to: out/x\n"
MINIMAL = HEAD + COPY_STEP


def errors(text: str | bytes) -> list[str]:
    with pytest.raises(WorkflowFileError) as info:
        parse_workflow_yaml(text)
    return [str(e) for e in info.value.errors]


def with_step(step: str, *, extra: str = "") -> str:
    """A document whose only step is `step` (YAML lines for one mapping)."""
    lines = step.strip("\n").splitlines()
    body = "\n".join(["  - " + lines[0]] + ["    " + line for line in lines[1:]])
    return HEAD + extra + "steps:\n" + body + "\n"


def assert_error(text: str, expected: str) -> None:
    found = errors(text)
    assert any(expected in e for e in found), f"{expected!r} not in {found!r}"


# --- the DESIGN example and the shipped examples ---------------------------------------


def test_the_design_example_imports_as_written() -> None:
    defn = parse_workflow_yaml(DESIGN_EXAMPLE)
    assert defn.name == "invoice-intake"
    assert defn.owner == "ops-lead"
    assert defn.trigger == TriggerSpec(
        folder="~/invoices/incoming",
        patterns=("*.csv",),
        ignore=("*.tmp",),
        events=("created", "moved"),
        settle_ms=500,
    )
    assert defn.input == InputSpec(read="csv", max_bytes=10485760)
    assert defn.output == OutputSpec(("~/accounting/inbox",), ("~/accounting/staging",))
    assert defn.steps == (
        StepSpec(
            action="copy_file",
            params={"to": "{{ output.path }}/{{ file.stem }}-{{ run.id }}{{ file.suffix }}"},
        ),
        StepSpec(
            action="send_email",
            params={
                "to": "{{ row.email }}",
                "subject": "Invoice {{ row.number }} received",
                "body": "We received invoice {{ row.number }}.",
            },
            connection="supplier-smtp",
            for_each="rows",
            customer_facing=True,
        ),
    )
    assert defn.approval == ApprovalSpec(mode="until_reviewed", reviewed_runs=10)
    assert defn.graduation == GraduationSpec(staging_runs=5)
    assert defn.retry == RetrySpec(limit=2, backoff_s=30.0)
    assert defn.notify == NotifySpec(on_failure=("tray", "email:ops@example.test"))
    assert defn.pause == PauseSpec(consecutive_failures=3, on_provider_change=True)
    assert defn.rollback.startswith("Remove the copies")
    assert policy.missing_checklist_items(defn) == []


def test_the_design_example_round_trips() -> None:
    defn = parse_workflow_yaml(DESIGN_EXAMPLE)
    exported = definition_to_yaml(defn)
    assert parse_workflow_yaml(exported) == defn
    document = definition_to_dict(defn)
    assert definition_from_dict(document) == defn
    assert definition_from_dict(json.loads(json.dumps(document))) == defn
    assert list(document) == [
        "name",
        "category",
        "owner",
        "description",
        "trigger",
        "input",
        "output",
        "steps",
        "approval",
        "graduation",
        "retry",
        "notify",
        "pause",
        "rollback",
    ]
    assert list(yaml.safe_load(exported)) == list(document)


def test_export_is_readable_block_yaml() -> None:
    text = definition_to_yaml(parse_workflow_yaml(DESIGN_EXAMPLE))
    assert text.startswith("name: invoice-intake\ncategory: finance\n")
    assert "\nsteps:\n  - action: copy_file\n" in text
    assert "{{" in text and "${secret" not in text


def example_files() -> list[Path]:
    return sorted(EXAMPLES.glob("*.yaml"))


def test_the_examples_are_there() -> None:
    names = {p.name for p in example_files()}
    assert {
        "invoice-intake.yaml",
        "report-archive.yaml",
        "status-webhook.yaml",
        "nightly-cleanup.yaml",
    } <= names


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_every_example_imports_and_round_trips(path: Path) -> None:
    defn = parse_workflow_yaml(path.read_bytes())
    assert defn.name == path.stem
    assert parse_workflow_yaml(definition_to_yaml(defn)) == defn
    assert definition_from_dict(json.loads(json.dumps(definition_to_dict(defn)))) == defn


def test_the_invoice_example_lacks_exactly_notify_and_rollback() -> None:
    defn = parse_workflow_yaml((EXAMPLES / "invoice-intake.yaml").read_text())
    assert policy.missing_checklist_items(defn) == ["notification path", "rollback path"]
    for name in ("report-archive", "status-webhook", "nightly-cleanup"):
        complete = parse_workflow_yaml((EXAMPLES / f"{name}.yaml").read_text())
        assert policy.missing_checklist_items(complete) == [], name


def test_the_examples_show_what_they_promise() -> None:
    archive = parse_workflow_yaml((EXAMPLES / "report-archive.yaml").read_text())
    assert archive.category == "reporting"
    assert [s.action for s in archive.steps] == ["copy_file", "write_file"]
    assert archive.trigger.patterns == ("*.pdf",)
    hook = parse_workflow_yaml((EXAMPLES / "status-webhook.yaml").read_text())
    assert hook.category == "integrations"
    (step,) = hook.steps
    assert (step.action, step.connection) == ("http_request", "status-api")
    assert step.params["headers"]["Authorization"] == "Bearer {{ secret.status_api_token }}"
    cleanup = parse_workflow_yaml((EXAMPLES / "nightly-cleanup.yaml").read_text())
    assert cleanup.category == "maintenance"
    assert cleanup.trigger.interval_s == 86400 and cleanup.trigger.folder is None
    assert cleanup.steps[0].params["argv"][:2] == ["python3", "-c"]


# --- document-level problems ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "(document): the file is empty"),
        (b"", "(document): the file is empty"),
        ("  \n\n\t\n", "(document): the file is empty"),
        ("# only a comment\n", "(document): the file is empty (it holds only comments)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "(document): not a text file: it contains NUL bytes"),
        (
            b"name: ok\nowner: \xff\n",
            "(document): not a text file: byte 0xff is not valid UTF-8 (line 2)",
        ),
        ("name: a\x00b", "(document): not a text file: it contains NUL characters"),
        ("- name\n- steps\n", "(document): expected a mapping of workflow fields, got a list"),
        ("hello", "(document): expected a mapping of workflow fields, got text ('hello')"),
        ("42", "(document): expected a mapping of workflow fields, got a number (42)"),
        ("~", "(document): expected a mapping of workflow fields, got nothing (null)"),
    ],
)
def test_document_errors(text: str | bytes, expected: str) -> None:
    assert errors(text) == [expected]


def test_yaml_syntax_errors_name_line_and_column() -> None:
    (message,) = errors("name: demo\ncategory: [ops\nsteps: []\n")
    assert message.startswith("(document): YAML syntax error: ")
    assert "(line 3, column 6)" in message
    (message,) = errors("name: demo\n\tcategory: ops\n")
    assert "(line 2, column 1)" in message and "'\\t'" in message
    (message,) = errors(HEAD + "steps:\n  - action: copy_file\n   to: x\n")
    assert "(line 5, column" in message
    (message,) = errors("name: a\x07b\n")
    assert message == (
        "(document): YAML syntax error: the character U+0007 is not allowed in YAML "
        "(line 1, column 8)"
    )
    (message,) = errors(MINIMAL + "---\nname: other\n")
    assert "expected a single document" in message and "(line 6, column 1)" in message


def test_unsupported_tags_are_errors() -> None:
    assert "name: unsupported YAML tag '!!python/object:os.system' (line 1)" in errors(
        "name: !!python/object:os.system echo\ncategory: ops\n" + COPY_STEP
    )
    assert_error(HEAD + "owner: !vault abc\n" + COPY_STEP, "owner: unsupported YAML tag '!vault'")
    assert_error(HEAD + "owner: !!set {a, b}\n" + COPY_STEP, "unsupported YAML tag '!!set'")
    assert_error(HEAD + "owner: !!int abc\n" + COPY_STEP, "owner: cannot read 'abc'")


def test_duplicate_keys_are_errors() -> None:
    assert "name: duplicate key: it appears more than once (line 3)" in errors(
        HEAD + "name: other\n" + COPY_STEP
    )
    assert_error(with_step("action: copy_file\nto: a\nto: b"), "steps[0].to: duplicate key")


def test_anchors_and_merge_keys_work() -> None:
    text = HEAD + (
        "steps:\n"
        "  - &copy {action: copy_file, to: out/a, name: one}\n"
        "  - *copy\n"
        "  - <<: *copy\n"
        "    to: out/b\n"
    )
    defn = parse_workflow_yaml(text)
    assert [s.params["to"] for s in defn.steps] == ["out/a", "out/a", "out/b"]
    assert {s.label for s in defn.steps} == {"one"}
    assert_error(HEAD + "steps:\n  - {<<: 5, action: copy_file}\n", "steps[0]: invalid merge key")


def test_recursive_and_exploding_aliases_are_refused() -> None:
    assert_error(HEAD + "steps: &s [*s]\n", "an alias refers to a list or mapping that holds it")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for name, prev in zip("bcdefg", "abcdef", strict=True):
        bomb += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]\n"
    assert errors(bomb) == ["(document): too large: the document expands to over 100000 values"]


def test_deep_nesting_is_refused() -> None:
    assert errors("a: " + "[" * 5000 + "]" * 5000) == [
        "(document): the document is nested too deeply"
    ]
    assert_error(
        with_step("action: acme.sync\nwith: {a: " + "[" * 80 + "]" * 80 + "}"),
        "nested too deeply",
    )


def test_keys_must_be_field_names() -> None:
    assert_error(with_step("{? [a, b] : 1, action: copy_file, to: x}"), "a key must be text")
    assert_error(with_step("action: copy_file\nto: x\n1: y"), "steps[0][1]: unknown key 1")


def test_utf8_bom_and_utf16_files_are_read() -> None:
    assert parse_workflow_yaml(b"\xef\xbb\xbf" + MINIMAL.encode()).name == "demo"
    assert parse_workflow_yaml(MINIMAL.encode("utf-16")).name == "demo"


def test_odd_inputs() -> None:
    assert errors(b"\xff\xfe\x00\xd8") == ["(document): not a text file: it is not valid UTF-16"]
    with pytest.raises(TypeError):
        parse_workflow_yaml(42)  # type: ignore[arg-type]


def test_all_errors_are_collected_with_lines() -> None:
    text = (
        "name: Demo Flow\n"
        "category: ops\n"
        "trigger: {folder: ~/in, settle_ms: -1}\n"
        "stpes: []\n"
        "steps:\n"
        "  - action: write_file\n"
        "    to: '{{ x }'\n"
        "  - action: run_command\n"
        "    argv: python3 script.py\n"
    )
    with pytest.raises(WorkflowFileError) as info:
        parse_workflow_yaml(text)
    found = info.value.errors
    assert [(e.path, e.line) for e in found] == [  # in the order of the file
        ("name", 1),
        ("trigger.settle_ms", 3),
        ("stpes", 4),
        ("steps[0].content", 6),  # missing: the line of its step
        ("steps[0].to", 7),
        ("steps[1].argv", 9),
    ]
    assert str(info.value) == "\n".join(str(e) for e in found)
    assert isinstance(info.value, BadInput) and info.value.exit_code == 2


def test_field_error_format() -> None:
    assert str(FieldError("steps[1].to", "required field is missing")) == (
        "steps[1].to: required field is missing"
    )
    assert str(FieldError("trigger.settle_ms", "bad", 4)) == "trigger.settle_ms: bad (line 4)"
    assert str(FieldError("(document)", "bad", 4, 7)) == "(document): bad (line 4, column 7)"


def test_unknown_keys_suggest_the_closest_key() -> None:
    assert errors(HEAD + "stpes:\n  - action: copy_file\n    to: x\n") == [
        "steps: required field is missing: list the actions to perform",
        "stpes: unknown key (did you mean 'steps'?) (line 3)",
    ]
    assert "trigger.setle_ms: unknown key (did you mean 'settle_ms'?) (line 3)" in errors(
        HEAD + "trigger: {folder: in, setle_ms: 5}\n" + COPY_STEP
    )
    assert_error(
        MINIMAL + "aproval: {mode: always}\n", "aproval: unknown key (did you mean 'approval'?)"
    )
    assert_error(MINIMAL + "zzz: 1\n", "zzz: unknown key (expected one of: name, category,")
    assert_error(
        MINIMAL + "pause: {on_provider_chnage: true}\n", "did you mean 'on_provider_change'?"
    )
    assert_error(
        with_step("action: copy_file\nto: x\nnmae: label"),
        "steps[0].nmae: unknown key (did you mean 'name'?)",
    )
    assert_error(
        with_step("action: copy_file\not: x"), "steps[0].ot: unknown key (did you mean 'to'?)"
    )


# --- every field ----------------------------------------------------------------------

TOP_LEVEL_CASES = [
    ("category: ops\n" + COPY_STEP, "name: required field is missing"),
    ("name: ~\ncategory: ops\n" + COPY_STEP, "name: required field is missing"),
    (
        "name: Invoice Intake\ncategory: ops\n" + COPY_STEP,
        "name: 'Invoice Intake' is not a valid workflow name",
    ),
    ("name: 42\ncategory: ops\n" + COPY_STEP, "name: expected workflow name, got a number (42)"),
    ("name: " + "a" * 65 + "\ncategory: ops\n" + COPY_STEP, "is not a valid workflow name"),
    ("name: demo\n" + COPY_STEP, "category: required field is missing"),
    (
        "name: demo\ncategory: Ops Team\n" + COPY_STEP,
        "category: 'Ops Team' is not a valid category name",
    ),
    ("name: demo\ncategory: [ops]\n" + COPY_STEP, "category: expected category name, got a list"),
    (MINIMAL + "owner: ''\n", "owner: must not be empty"),
    (MINIMAL + "owner: [ana]\n", "owner: expected owner (a person or a team), got a list"),
    (MINIMAL + "description: 5\n", "description: expected text, got a number (5)"),
    (MINIMAL + "rollback: '  '\n", "rollback: must not be empty"),
    (MINIMAL + "rollback: {how: x}\n", "rollback: expected rollback description, got a mapping"),
    (HEAD, "steps: required field is missing"),
    (HEAD + "steps: []\n", "steps: must list at least one step"),
    (HEAD + "steps: copy\n", "steps: expected a list of steps, got text ('copy')"),
    (
        HEAD + "steps: [5]\n",
        "steps[0]: expected a step (a mapping with an action), got a number (5)",
    ),
]

SECTION_CASES = [
    ("trigger: []", "trigger: expected a mapping, got a list"),
    ("trigger: {}", "trigger: needs a folder, an interval_s, a cron or manual: true"),
    ("trigger: {manual: false}", "trigger: needs a folder, an interval_s, a cron or manual: true"),
    ("trigger: {folder: 5}", "trigger.folder: expected folder path, got a number (5)"),
    ("trigger: {folder: ''}", "trigger.folder: must not be empty"),
    ("trigger: {folder: in, patterns: []}", "trigger.patterns: must list at least one entry"),
    ("trigger: {folder: in, patterns: '*.csv'}", "trigger.patterns: expected a list, got text"),
    ("trigger: {folder: in, patterns: ['']}", "trigger.patterns[0]: must not be empty"),
    ("trigger: {folder: in, patterns: ~}", "trigger.patterns: expected a list, got nothing (null)"),
    ("trigger: {folder: in, ignore: [1]}", "trigger.ignore[0]: expected text, got a number (1)"),
    (
        "trigger: {folder: in, events: [deleted]}",
        "trigger.events[0]: expected one of created, modified, moved, got 'deleted'",
    ),
    (
        "trigger: {folder: in, events: [created, created]}",
        "trigger.events[1]: 'created' is listed twice",
    ),
    ("trigger: {folder: in, events: []}", "trigger.events: must list at least one entry"),
    (
        "trigger: {folder: in, settle_ms: -1}",
        "trigger.settle_ms: must be between 0 and 3600000, got -1",
    ),
    (
        "trigger: {folder: in, settle_ms: 3600001}",
        "trigger.settle_ms: must be between 0 and 3600000",
    ),
    (
        "trigger: {folder: in, settle_ms: 500ms}",
        "trigger.settle_ms: expected a whole number, got text ('500ms')",
    ),
    (
        "trigger: {folder: in, settle_ms: 1.5}",
        "trigger.settle_ms: expected a whole number, got a number (1.5)",
    ),
    (
        "trigger: {folder: in, settle_ms: true}",
        "trigger.settle_ms: expected a whole number, got true/false",
    ),
    (
        "trigger: {folder: in, recursive: 'yes'}",
        "trigger.recursive: expected true or false, got text ('yes')",
    ),
    (
        "trigger: {folder: in, recursive: 1}",
        "trigger.recursive: expected true or false, got a number (1)",
    ),
    ("trigger: {folder: in, polling: 0}", "trigger.polling: expected true or false"),
    ("trigger: {manual: 'true'}", "trigger.manual: expected true or false, got text ('true')"),
    ("trigger: {interval_s: 0}", "trigger.interval_s: must be between 1 and 31536000, got 0"),
    ("trigger: {interval_s: 31536001}", "trigger.interval_s: must be between 1 and 31536000"),
    ("trigger: {interval_s: hourly}", "trigger.interval_s: expected a whole number"),
    ("input: text", "input: expected a mapping, got text ('text')"),
    ("input: {read: xml}", "input.read: expected one of none, text, csv, json, got text ('xml')"),
    (
        "input: {read: CSV}",
        "input.read: expected one of none, text, csv, json, got text ('CSV') (did you mean 'csv'?)",
    ),
    ("input: {max_bytes: 0}", "input.max_bytes: must be between 1 and 2147483648, got 0"),
    ("input: {max_bytes: 2147483649}", "input.max_bytes: must be between 1 and 2147483648"),
    ("input: {encoding: klingon}", "input.encoding: unknown text encoding 'klingon'"),
    ("input: {encoding: rot13}", "input.encoding: unknown text encoding 'rot13'"),
    ("input: {encoding: 8}", "input.encoding: expected encoding name, got a number (8)"),
    ("input: {reed: csv}", "input.reed: unknown key (did you mean 'read'?)"),
    ("output: {staging_paths: [s]}", "output.paths: required field is missing"),
    ("output: {paths: []}", "output.paths: must list at least one entry"),
    ("output: {paths: out}", "output.paths: expected a list, got text ('out')"),
    ("output: {paths: [out], staging_paths: [3]}", "output.staging_paths[0]: expected text"),
    (
        "approval: {mode: sometimes}",
        "approval.mode: expected one of always, until_reviewed, got text ('sometimes')",
    ),
    ("approval: {reviewed_runs: 0}", "approval.reviewed_runs: must be between 1 and 10000, got 0"),
    ("approval: {reviewed_runs: 10001}", "approval.reviewed_runs: must be between 1 and 10000"),
    ("approval: {approvers: 0}", "approval.approvers: must be between 1 and 10, got 0"),
    (
        "approval: {customer_facing_override: 'no'}",
        "approval.customer_facing_override: expected true or false",
    ),
    ("graduation: 5", "graduation: expected a mapping, got a number (5)"),
    ("graduation: {staging_runs: 0}", "graduation.staging_runs: must be between 1 and 1000, got 0"),
    ("graduation: {staging_runs: 1001}", "graduation.staging_runs: must be between 1 and 1000"),
    ("retry: {limit: 21}", "retry.limit: must be between 0 and 20, got 21"),
    ("retry: {limit: -1}", "retry.limit: must be between 0 and 20"),
    ("retry: {backoff_s: -1}", "retry.backoff_s: must be at least 0 and at most 86400, got -1"),
    ("retry: {backoff_s: 86401}", "retry.backoff_s: must be at least 0 and at most 86400"),
    ("retry: {backoff_s: .nan}", "retry.backoff_s: must be a finite number, got nan"),
    ("retry: {backoff_s: .inf}", "retry.backoff_s: must be a finite number, got inf"),
    ("retry: {backoff_s: 30s}", "retry.backoff_s: expected a number, got text ('30s')"),
    ("notify: {}", "notify.on_failure: required field is missing"),
    ("notify: {on_failure: []}", "notify.on_failure: must list at least one entry"),
    ("notify: {on_failure: tray}", "notify.on_failure: expected a list, got text ('tray')"),
    (
        "notify: {on_failure: [sms]}",
        "notify.on_failure[0]: expected tray, email:ADDRESS, webhook:URL or an apprise URL, "
        "got 'sms'",
    ),
    (
        "notify: {on_failure: ['ntfy:/missing-slash']}",
        "notify.on_failure[0]: expected tray, email:ADDRESS, webhook:URL or an apprise URL, "
        "got 'ntfy:/missing-slash'",
    ),
    (
        "notify: {on_failure: ['email:nobody']}",
        "notify.on_failure[0]: 'nobody' is not an e-mail address",
    ),
    (
        "notify: {on_failure: ['webhook:ftp://x.test/']}",
        "notify.on_failure[0]: 'ftp://x.test/' is not an http:// or https:// URL",
    ),
    ("notify: {on_failure: ['webhook:https://']}", "is not an http:// or https:// URL"),
    ("notify: {on_failure: [tray, 5]}", "notify.on_failure[1]: expected text, got a number (5)"),
    (
        "pause: {consecutive_failures: 0}",
        "pause.consecutive_failures: must be between 1 and 100, got 0",
    ),
    ("pause: {consecutive_failures: 101}", "pause.consecutive_failures: must be between 1 and 100"),
    ("pause: {on_provider_change: 'true'}", "pause.on_provider_change: expected true or false"),
    (
        "pause: {on_plugin_update: 1}",
        "pause.on_plugin_update: expected true or false, got a number (1)",
    ),
]


@pytest.mark.parametrize(
    ("step", "meant"),
    [
        ("action: send_emial\nconnection: smtp\nto: a@b.test\nsubject: s\nbody: b", "send_email"),
        ("action: http_requst\nmethod: GET\nurl: https://x.test/\ntimeout_s: 5", "http_request"),
        ("action: run_comand\nargv: [ls]\ncwd: /tmp", "run_command"),
        ("action: copyfile\nto: /tmp/x", "copy_file"),
    ],
)
def test_a_misspelt_action_is_one_unknown_action_error_not_unknown_keys(
    step: str, meant: str
) -> None:
    name = step.split("\n", 1)[0].removeprefix("action: ")
    assert errors(with_step(step)) == [
        f"steps[0].action: unknown action {name!r} (did you mean {meant!r}?) (line 4)"
    ]


STEP_CASES = [
    ("to: x", "steps[0].action: required field is missing"),
    ("action: 5", "steps[0].action: expected action name, got a number (5)"),
    ("action: Write File", "steps[0].action: 'Write File' is not a valid action"),
    (
        "action: write_fiel\nto: x\ncontent: y",
        "steps[0].action: unknown action 'write_fiel' (did you mean 'write_file'?)",
    ),
    (
        "action: acme.sync\neffect: sms",
        "steps[0].effect: expected one of email, http, command, file, got text ('sms')",
    ),
    ("action: acme.sync\nwith: [1]", "steps[0].with: expected a mapping of arguments, got a list"),
    (
        "action: acme.sync\nto: x",
        "steps[0].to: unknown key (expected one of: action, name, connection, for_each, "
        "customer_facing, with, effect)",
    ),
    ("action: acme.sync\nwith: {a: '{{ x }'}", "steps[0].with.a: template error: unexpected '}'"),
    (
        "action: acme.sync\nwith: {a: 2024-01-01}",
        "steps[0].with.a: expected a JSON value, got a date",
    ),
    ("action: acme.sync\nwith: {1: a}", "steps[0].with[1]: a key must be text, got a number (1)"),
    (
        "action: copy_file\nto: x\nwith: {a: 1}",
        "steps[0].with: only plug-in actions take 'with': copy_file is a built-in file action; "
        "give its keys directly",
    ),
    (
        "action: send_email\nconnection: smtp\nto: a\nsubject: s\nbody: b\neffect: http",
        "steps[0].effect: only plug-in actions take 'effect': "
        "send_email is a built-in email action",
    ),
    ("action: copy_file\nto: x\nname: 5", "steps[0].name: expected step name, got a number (5)"),
    (
        "action: copy_file\nto: x\nconnection: Bad Name",
        "steps[0].connection: 'Bad Name' is not a valid connection name",
    ),
    (
        "action: copy_file\nto: x\nfor_each: cells",
        "steps[0].for_each: expected one of rows, items, got text ('cells')",
    ),
    (
        "action: copy_file\nto: x\nfor_each: rows",
        "steps[0].for_each: needs an input section that reads csv or json",
    ),
    (
        "action: copy_file\nto: x\ncustomer_facing: 'yes'",
        "steps[0].customer_facing: expected true or false, got text ('yes')",
    ),
    ("action: write_file\ncontent: x", "steps[0].to: required field is missing"),
    ("action: write_file\nto: x", "steps[0].content: required field is missing"),
    ("action: write_file\nto: ''\ncontent: x", "steps[0].to: must not be empty"),
    (
        "action: write_file\nto: x\ncontent: 5",
        "steps[0].content: expected text (a template), got a number (5)",
    ),
    (
        "action: write_file\nto: x\ncontent: [a]",
        "steps[0].content: expected text (a template), got a list",
    ),
    ("action: copy_file", "steps[0].to: required field is missing"),
    ("action: move_file", "steps[0].to: required field is missing"),
    (
        "action: move_file\nto: x\nfrom: y",
        "steps[0].from: unknown key (expected one of: action, name, connection, for_each, "
        "customer_facing, to)",
    ),
    ("action: copy_file\nto: '{{ x }'", "steps[0].to: template error: unexpected '}' (line 5)"),
    (
        "action: copy_file\nto: \"{{ secret['bad name'] }}\"",
        "steps[0].to: template error: 'bad name' is not a valid secret name",
    ),
    (
        "action: http_request",
        "steps[0].url: required field is missing (or give a connection and a path)",
    ),
    (
        "action: http_request\nurl: ftp://x.test/",
        "steps[0].url: 'ftp://x.test/' is not an http:// or https:// URL",
    ),
    ("action: http_request\nurl: 'https://x.test/{{ a }'", "steps[0].url: template error"),
    (
        "action: http_request\nurl: https://x.test/\npath: /a",
        "steps[0].path: a path is relative to a connection's base URL",
    ),
    (
        "action: http_request\nconnection: api\nurl: https://x.test/",
        "steps[0].url: with a connection, give path",
    ),
    ("action: http_request\nconnection: api", "steps[0].path: required with a connection"),
    (
        "action: http_request\nurl: https://x.test/\nmethod: get",
        "steps[0].method: expected one of GET, POST, PUT, PATCH, DELETE, got text ('get') "
        "(did you mean 'GET'?)",
    ),
    (
        "action: http_request\nurl: https://x.test/\nmethod: FETCH",
        "steps[0].method: expected one of GET, POST, PUT, PATCH, DELETE",
    ),
    (
        "action: http_request\nurl: https://x.test/\nheaders: [a]",
        "steps[0].headers: expected a mapping of header name to text, got a list",
    ),
    (
        "action: http_request\nurl: https://x.test/\nheaders: {X Y: a}",
        "steps[0].headers['X Y']: 'X Y' is not a valid header name",
    ),
    (
        "action: http_request\nurl: https://x.test/\nheaders: {X-N: 5}",
        "steps[0].headers.X-N: expected text (a template), got a number (5)",
    ),
    (
        "action: http_request\nurl: https://x.test/\nheaders: {X-N: '{{ a }'}",
        "steps[0].headers.X-N: template error",
    ),
    (
        "action: http_request\nurl: https://x.test/\nbody: b\njson: {a: 1}",
        "steps[0].json: give either body or json, not both",
    ),
    (
        "action: http_request\nurl: https://x.test/\nbody: 5",
        "steps[0].body: expected text (a template)",
    ),
    (
        "action: http_request\nurl: https://x.test/\njson: {a: [.nan]}",
        "steps[0].json.a[0]: must be a finite number, got nan",
    ),
    (
        "action: http_request\nurl: https://x.test/\njson: ['{{ a }']",
        "steps[0].json[0]: template error",
    ),
    (
        "action: http_request\nurl: https://x.test/\ntimeout_s: 0",
        "steps[0].timeout_s: must be more than 0 and at most 300, got 0",
    ),
    (
        "action: http_request\nurl: https://x.test/\ntimeout_s: 301",
        "steps[0].timeout_s: must be more than 0 and at most 300",
    ),
    (
        "action: http_request\nurl: https://x.test/\ntimeout_s: soon",
        "steps[0].timeout_s: expected a number",
    ),
    (
        "action: send_email\nto: a\nsubject: s\nbody: b",
        "steps[0].connection: required: send_email sends through a mail connection",
    ),
    (
        "action: send_email\nconnection: smtp\nsubject: s\nbody: b",
        "steps[0].to: required field is missing",
    ),
    (
        "action: send_email\nconnection: smtp\nto: []\nsubject: s\nbody: b",
        "steps[0].to: must list at least one address",
    ),
    (
        "action: send_email\nconnection: smtp\nto: 5\nsubject: s\nbody: b",
        "steps[0].to: expected text or a list of text (templates), got a number (5)",
    ),
    (
        "action: send_email\nconnection: smtp\nto: ['']\nsubject: s\nbody: b",
        "steps[0].to[0]: must not be empty",
    ),
    (
        "action: send_email\nconnection: smtp\nto: a\ncc: [5]\nsubject: s\nbody: b",
        "steps[0].cc[0]: expected text (a template), got a number (5)",
    ),
    (
        "action: send_email\nconnection: smtp\nto: a\nbody: b",
        "steps[0].subject: required field is missing",
    ),
    (
        "action: send_email\nconnection: smtp\nto: a\nsubject: s",
        "steps[0].body: required field is missing",
    ),
    (
        "action: send_email\nconnection: smtp\nto: a\nsubject: s\nbody: b\nbcc: c",
        "steps[0].bcc: unknown key (did you mean 'cc'?)",
    ),
    ("action: run_command", "steps[0].argv: required field is missing"),
    (
        "action: run_command\nargv: python3 script.py",
        "steps[0].argv: expected a list, got text: commands run without a shell",
    ),
    ("action: run_command\nargv: []", "steps[0].argv: must list at least the program to run"),
    (
        "action: run_command\nargv: {a: b}",
        "steps[0].argv: expected a list of arguments, got a mapping",
    ),
    (
        "action: run_command\nargv: [sleep, 5]",
        "steps[0].argv[1]: expected text (a template), got a number (5)",
    ),
    (
        "action: run_command\nargv: ['', x]",
        "steps[0].argv[0]: must not be empty: it names the program",
    ),
    ("action: run_command\nargv: [echo, '{{ x }']", "steps[0].argv[1]: template error"),
    (
        "action: run_command\nargv: [true]\ntimeout_s: 0",
        "steps[0].timeout_s: must be more than 0 and at most 86400, got 0",
    ),
    ("action: run_command\nargv: [true]\ncwd: ''", "steps[0].cwd: must not be empty"),
    (
        "action: run_command\nargv: [true]\nenv: {A=B: x}",
        "steps[0].env['A=B']: 'A=B' is not a valid environment variable name",
    ),
    (
        "action: run_command\nargv: [true]\nenv: {HOME: 5}",
        "steps[0].env.HOME: expected text (a template), got a number (5)",
    ),
    ("action: run_command\nargv: [true]\nshell: true", "steps[0].shell: unknown key"),
]


@pytest.mark.parametrize(("text", "expected"), TOP_LEVEL_CASES)
def test_top_level_errors(text: str, expected: str) -> None:
    assert_error(text, expected)


@pytest.mark.parametrize(("section", "expected"), SECTION_CASES)
def test_section_errors(section: str, expected: str) -> None:
    text = MINIMAL + section + "\n"
    found = errors(text)
    assert any(e.startswith(expected) or expected in e for e in found), found
    assert all(e.endswith("(line 6)") for e in found if e.startswith(section.split(":")[0]))


@pytest.mark.parametrize(("step", "expected"), STEP_CASES)
def test_step_errors(step: str, expected: str) -> None:
    assert_error(with_step(step), expected)


def test_for_each_needs_rows_or_items_to_read() -> None:
    step = "action: copy_file\nto: x\nfor_each: rows"
    assert_error(
        with_step(step, extra="input: {read: text}\n"),
        "steps[0].for_each: needs input.read csv or json, not 'text'",
    )
    (only,) = errors(with_step(step, extra="input: {read: xml}\n"))  # no second error
    assert only.startswith("input.read: expected one of none, text, csv, json")
    for read in ("csv", "json"):
        defn = parse_workflow_yaml(with_step(step, extra=f"input: {{read: {read}}}\n"))
        assert defn.steps[0].for_each == "rows"


def test_template_errors_in_multiline_templates_name_the_template_line() -> None:
    text = with_step("action: write_file\nto: x\ncontent: |\n  first\n  second {% if %}")
    (message,) = errors(text)
    assert message.startswith("steps[0].content: template error: Expected an expression")
    assert message.endswith("(template line 2) (line 6)")


def test_template_errors_from_plain_data_name_the_template_line() -> None:
    doc = {"name": "demo", "category": "ops", "steps": [{"action": "copy_file", "to": "{{ x }"}]}
    with pytest.raises(WorkflowFileError) as info:
        definition_from_dict(doc)
    assert [str(e) for e in info.value.errors] == [
        "steps[0].to: template error: unexpected '}' (line 1)"
    ]


def test_null_optional_sections_count_as_missing() -> None:
    text = (
        MINIMAL
        + "".join(f"{k}:\n" for k in ("owner", "trigger", "input", "output", "approval", "retry"))
        + "notify: ~\npause: null\nrollback:\ndescription:\n"
    )
    defn = parse_workflow_yaml(text)
    assert defn == WorkflowDefinition(
        name="demo", category="ops", steps=(StepSpec("copy_file", {"to": "out/x"}),)
    )
    assert len(policy.missing_checklist_items(defn)) == 9


def test_valid_steps_of_every_kind() -> None:
    text = HEAD + (
        "input: {read: json}\n"
        "steps:\n"
        "  - {action: write_file, to: 'out/{{ file.stem }}.txt', content: ''}\n"
        "  - {action: move_file, to: done/, name: Done}\n"
        "  - action: http_request\n"
        "    url: https://api.example.test/v1/{{ item.id }}\n"
        "    method: PUT\n"
        "    json: {id: '{{ item.id }}', tags: [a, 1, true, null, 2.5]}\n"
        "    for_each: items\n"
        "    customer_facing: true\n"
        "  - {action: http_request, connection: status-api, path: /, method: GET}\n"
        "  - action: send_email\n"
        "    connection: smtp\n"
        "    to: [a@example.test, '{{ item.email }}']\n"
        "    cc: boss@example.test\n"
        "    subject: Hi\n"
        "    body: ''\n"
        "  - action: run_command\n"
        "    argv: [python3, -c, 'print(1)', '{{ file.path }}']\n"
        "    cwd: /tmp\n"
        "    env: {LANG: C.UTF-8}\n"
        "    connection: local-shell\n"
        "  - {action: acme.crm-sync, with: {record: '{{ item.id }}', n: [1]}, effect: http}\n"
        "  - {action: acme.noop}\n"
    )
    defn = parse_workflow_yaml(text)
    write, move, put, get, mail, command, plugin, noop = defn.steps
    assert write.params == {"to": "out/{{ file.stem }}.txt", "content": ""}
    assert move.label == "Done"
    assert put.params == {
        "method": "PUT",
        "url": "https://api.example.test/v1/{{ item.id }}",
        "json": {"id": "{{ item.id }}", "tags": ["a", 1, True, None, 2.5]},
        "timeout_s": 30,
    }
    assert put.customer_facing and put.for_each == "items"
    assert get.params == {"method": "GET", "path": "/", "timeout_s": 30}
    assert mail.params["to"] == ["a@example.test", "{{ item.email }}"]
    assert command.params["timeout_s"] == 60 and command.connection == "local-shell"
    assert plugin.params == {"record": "{{ item.id }}", "n": [1]}
    assert plugin.effect == "http" and plugin.effect_kind.value == "http"
    assert noop.params == {} and noop.effect is None
    assert parse_workflow_yaml(definition_to_yaml(defn)) == defn
    assert definition_from_dict(json.loads(json.dumps(definition_to_dict(defn)))) == defn


def test_the_parsed_params_do_not_share_state_with_the_document() -> None:
    doc = definition_to_dict(parse_workflow_yaml(DESIGN_EXAMPLE))
    defn = definition_from_dict(doc)
    doc["steps"][0]["to"] = "changed"
    assert defn.steps[0].params["to"] != "changed"


# --- definition_from_dict and definition_to_dict --------------------------------------


def test_from_dict_refuses_what_is_not_a_mapping() -> None:
    for doc, kind in (
        ([], "a list"),
        ("x", "text ('x')"),
        (None, "nothing (null)"),
        (3.5, "a number (3.5)"),
    ):
        with pytest.raises(WorkflowFileError) as info:
            definition_from_dict(doc)
        assert str(info.value) == f"(document): expected a mapping of workflow fields, got {kind}"


def test_from_dict_survives_deep_and_self_referencing_values() -> None:
    deep: Any = []
    for _ in range(10_000):
        deep = [deep]
    args: dict[str, Any] = {"a": deep}
    loop: dict[str, Any] = {}
    loop["x"] = loop
    loop["y"] = loop
    for value in (args, {"loop": loop}):
        doc = {"name": "d", "category": "c", "steps": [{"action": "acme.x", "with": value}]}
        with pytest.raises(WorkflowFileError, match="nested too deeply"):
            definition_from_dict(doc)


def test_to_dict_omits_missing_sections_and_is_json_safe() -> None:
    defn = parse_workflow_yaml(MINIMAL)
    document = definition_to_dict(defn)
    assert document == {
        "name": "demo",
        "category": "ops",
        "steps": [{"action": "copy_file", "to": "out/x"}],
        "graduation": {"staging_runs": 5},
    }
    assert json.loads(json.dumps(document)) == document
    assert definition_from_dict(document) == defn


# --- hypothesis -----------------------------------------------------------------------

KEYS = [
    "name", "category", "owner", "description", "trigger", "input", "output", "steps",
    "approval", "graduation", "retry", "notify", "pause", "rollback", "folder", "patterns",
    "events", "settle_ms", "interval_s", "manual", "read", "paths", "action", "to", "content",
    "argv", "with", "effect", "url", "path", "json", "mode", "limit", "on_failure",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        ["copy_file", "write_file", "run_command", "http_request", "send_email", "{{ x }",
         "{{ row.a }}", "csv", "rows", "tray", "always", "~/in", "acme.x", "created"]
    ),
)  # fmt: skip
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner, max_size=5),
    ),
    max_leaves=30,
)


def parse_or_refuse(parse: Any, value: Any) -> WorkflowDefinition | None:
    try:
        return parse(value)
    except WorkflowFileError as exc:
        assert exc.errors and all(isinstance(e, FieldError) for e in exc.errors)
        return None


def assert_round_trips(defn: WorkflowDefinition) -> None:
    assert parse_workflow_yaml(definition_to_yaml(defn)) == defn
    assert definition_from_dict(json.loads(json.dumps(definition_to_dict(defn)))) == defn


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_documents_raise_only_validation_errors(doc: Any) -> None:
    defn = parse_or_refuse(definition_from_dict, doc)
    if defn is not None:
        assert_round_trips(defn)
    defn = parse_or_refuse(parse_workflow_yaml, yaml.safe_dump(doc))
    if defn is not None:
        assert_round_trips(defn)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_random_text_raises_only_validation_errors(data: str | bytes) -> None:
    parse_or_refuse(parse_workflow_yaml, data)


def mutate(doc: Any, data: st.DataObject) -> Any:
    """Delete, replace or add one value somewhere in `doc`."""
    if not isinstance(doc, dict | list) or not doc or data.draw(st.integers(0, 3)) == 0:
        return data.draw(documents)
    if isinstance(doc, list):
        i = data.draw(st.integers(0, len(doc) - 1))
        op = data.draw(st.sampled_from(["delete", "mutate"]))
        return (
            doc[:i] + doc[i + 1 :]
            if op == "delete"
            else [*doc[:i], mutate(doc[i], data), *doc[i + 1 :]]
        )
    key = data.draw(st.sampled_from(sorted(doc)))
    op = data.draw(st.sampled_from(["delete", "mutate", "add"]))
    out = dict(doc)
    if op == "delete":
        del out[key]
    elif op == "add":
        out[data.draw(st.sampled_from(KEYS))] = data.draw(documents)
    else:
        out[key] = mutate(doc[key], data)
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutations_of_the_example_raise_only_validation_errors(data: st.DataObject) -> None:
    doc = definition_to_dict(parse_workflow_yaml(DESIGN_EXAMPLE))
    for _ in range(data.draw(st.integers(1, 3))):
        doc = mutate(doc, data)
    text = yaml.safe_dump(doc, sort_keys=False)
    defn = parse_or_refuse(parse_workflow_yaml, text)
    if defn is not None:
        assert_round_trips(defn)
        assert definition_from_dict(doc) == defn


free_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))


@settings(max_examples=200, deadline=None)
@given(
    description=free_text,
    rollback=free_text.filter(str.strip),
    content=free_text,
    patterns=st.lists(free_text.filter(str.strip), min_size=1, max_size=3),
    backoff=st.floats(min_value=0, max_value=86400),
)
def test_any_text_survives_export(
    description: str, rollback: str, content: str, patterns: list[str], backoff: float
) -> None:
    defn = WorkflowDefinition(
        name="demo",
        category="ops",
        owner=rollback,
        description=description,
        trigger=TriggerSpec(folder=rollback, patterns=tuple(patterns)),
        steps=(StepSpec("write_file", {"to": "out", "content": content}),),
        retry=RetrySpec(backoff_s=backoff),
        rollback=rollback,
    )
    try:
        valid = definition_from_dict(definition_to_dict(defn))
    except WorkflowFileError as exc:  # only a template error may refuse free text
        assert all("template error" in e.message for e in exc.errors), exc
        return
    assert valid == defn
    assert_round_trips(defn)
    assert math.isfinite(valid.retry.backoff_s)


def test_approvers_parse_and_round_trip() -> None:
    defn = parse_workflow_yaml(
        DESIGN_EXAMPLE.replace("reviewed_runs: 10}", "reviewed_runs: 10, approvers: 2}")
    )
    assert defn.approval.approvers == 2
    assert definition_from_dict(definition_to_dict(defn)).approval.approvers == 2
    assert parse_workflow_yaml(DESIGN_EXAMPLE).approval.approvers == 1


def test_a_secret_in_argv_is_refused_and_env_or_stdin_named() -> None:
    step = 'action: run_command\nargv: [tool, "--token={{ secret.api }}"]'
    assert_error(with_step(step), "steps[0].argv[1]: a secret (api) in argv is visible")
    assert_error(with_step(step), "pass it in env")


def test_a_secret_in_env_or_stdin_is_accepted() -> None:
    step = (
        "action: run_command\nargv: [tool]\n"
        'env: {TOKEN: "{{ secret.api }}"}\nstdin: "{{ secret.api }}\\n"'
    )
    (parsed,) = parse_workflow_yaml(with_step(step)).steps
    assert parsed.params["stdin"] == "{{ secret.api }}\n"
