"""The `llm` connection kind and the prompt step in the workflow file (issue 17):
settings checked field by field, cost per million tokens, what is a provider change,
placeholders of a json_schema's shape, the step's keys and the answer names, and the
approval gate for AI-drafted customer-facing writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from sophmate_desktop.domain import policy
from sophmate_desktop.domain.enums import EffectKind
from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.llm import (
    changes_provider,
    is_provider_change,
    llm_settings,
    placeholder_json,
)
from sophmate_desktop.domain.workflow import ApprovalSpec, step_reads_answers
from sophmate_desktop.domain.workflow_file import (
    WorkflowFileError,
    definition_to_yaml,
    parse_workflow_yaml,
)

OLLAMA = {"base_url": "http://127.0.0.1:11434/v1", "model": "llama3.2"}
EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "supplier-replies.yaml"
HEAD = "name: demo\ncategory: ops\ninput: {read: csv}\n"


def doc(*steps: str, extra: str = "") -> str:
    body = "".join("  - " + s.strip().replace("\n", "\n    ") + "\n" for s in steps)
    return HEAD + extra + "steps:\n" + body


NO_PROMPT = 'prompt: "Reply to {{ row.supplier }}"\n'
PROMPT = """action: prompt
connection: llm
for_each: rows
prompt: "Reply to {{ row.supplier }}"
as: draft"""
MAIL = """action: send_email
connection: smtp
for_each: rows
to: "{{ row.email }}"
subject: Hi
body: "{{ steps.draft.text }}"
customer_facing: true"""


def errors(text: str) -> list[str]:
    with pytest.raises(WorkflowFileError) as info:
        parse_workflow_yaml(text)
    return [str(e) for e in info.value.errors]


def test_settings_default_to_openai_with_a_timeout_and_no_price() -> None:
    s = llm_settings(OLLAMA)
    assert (s.provider, s.base_url, s.model, s.price_in, s.price_out, s.timeout_s) == (
        "openai",
        "http://127.0.0.1:11434/v1",
        "llama3.2",
        0.0,
        0.0,
        60.0,
    )
    assert llm_settings({"provider": "anthropic", "model": "claude-x"}).base_url is None
    assert llm_settings(OLLAMA).concurrency == 4
    assert llm_settings({**OLLAMA, "concurrency": 1}).concurrency == 1


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"model": "m"}, "settings.base_url: required for an OpenAI-compatible endpoint"),
        ({**OLLAMA, "base_url": "ftp://x"}, "settings.base_url: 'ftp://x' is not an http"),
        ({"base_url": "http://x"}, "settings.model: required"),
        ({**OLLAMA, "provider": "cohere"}, "settings.provider: use openai or anthropic"),
        ({**OLLAMA, "price_in": -1}, "settings.price_in: a price cannot be negative"),
        ({**OLLAMA, "price_out": "cheap"}, "settings.price_out: give a price per million"),
        ({**OLLAMA, "timeout_s": 0}, "settings.timeout_s: give more than 0"),
        ({**OLLAMA, "temperature": 2}, "settings.temperature: unknown setting"),
        ({**OLLAMA, "concurrency": 0}, "settings.concurrency: give a whole number of calls"),
        ({**OLLAMA, "concurrency": 2.5}, "settings.concurrency: give a whole number of calls"),
    ],
)
def test_bad_settings_name_the_field(settings: dict, message: str) -> None:
    with pytest.raises(BadInput) as info:
        llm_settings(settings)
    assert str(info.value).startswith(message)


def test_cost_is_per_million_tokens_in_and_out() -> None:
    s = llm_settings({**OLLAMA, "price_in": 2.5, "price_out": 10})
    assert s.cost(1_000_000, 0) == 2.5 and s.cost(400, 12) == pytest.approx(0.00112)


def test_model_endpoint_and_key_are_provider_changes_price_and_timeout_are_not() -> None:
    old = {"settings": {**OLLAMA, "price_in": 1}, "staging_settings": None, "secret_ref": "k"}
    assert not is_provider_change(old, {**old, "settings": {**OLLAMA, "price_in": 2}})
    assert not is_provider_change(old, {**old, "settings": {**old["settings"], "timeout_s": 9}})
    assert is_provider_change(old, {**old, "settings": {**OLLAMA, "model": "llama4"}})
    assert is_provider_change(old, {**old, "secret_ref": "other"})
    assert is_provider_change(old, {**old, "staging_settings": {**OLLAMA, "base_url": "http://y"}})
    assert changes_provider("smtp", "smtp", {}, {})  # every SMTP change is one
    assert changes_provider("http", "llm", old, old)  # so is a change of kind


def test_placeholders_take_the_shape_of_the_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "subject": {"type": "string"},
            "urgent": {"type": "boolean"},
            "score": {"type": ["null", "number"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "tone": {"enum": ["formal", "casual"]},
        },
    }
    assert placeholder_json(schema) == {
        "subject": "[placeholder]",
        "urgent": False,
        "score": 0,
        "tags": ["[placeholder]"],
        "tone": "formal",
    }


def test_a_prompt_step_reads_and_exports_as_written() -> None:
    defn = parse_workflow_yaml(doc(PROMPT, MAIL, extra="dry_run_prompts: true\n"))
    prompt, mail = defn.steps
    assert prompt.effect_kind is EffectKind.AI and prompt.params["max_tokens"] == 1024
    assert defn.prompts and defn.dry_run_prompts and EffectKind.AI in defn.effect_kinds
    assert step_reads_answers(mail) and not step_reads_answers(prompt)
    assert parse_workflow_yaml(definition_to_yaml(defn)) == defn
    assert "dry_run_prompts" not in definition_to_yaml(parse_workflow_yaml(doc(PROMPT)))


def test_the_documented_example_imports() -> None:
    defn = parse_workflow_yaml(EXAMPLE.read_text())
    assert [s.action for s in defn.steps] == ["prompt", "send_email"]


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (PROMPT.replace("connection: llm\n", ""), "steps[0].connection: required: a prompt"),
        (PROMPT.replace(NO_PROMPT, ""), "steps[0].prompt: required"),
        (PROMPT + "\nsystem: '{{ secret.api }}'", "steps[0].system: a secret (api) may not"),
        (PROMPT + "\nmax_tokens: 0", "steps[0].max_tokens: must be between 1 and 200000"),
        (PROMPT.replace("as: draft", "as: 9lives"), "steps[0].as: '9lives' is not a valid answer"),
        (PROMPT + "\njson_schema: {type: objekt}", "steps[0].json_schema: not a valid JSON Schema"),
        (PROMPT + "\njson_schema: [1]", "steps[0].json_schema: expected a JSON Schema"),
        (PROMPT + "\ncustomer_facing: true", "steps[0].customer_facing: a prompt writes nothing"),
        (PROMPT + "\ntemperature: 1", "steps[0].temperature: unknown key"),
    ],
)  # fmt: skip
def test_prompt_step_errors_name_the_field(step: str, expected: str) -> None:
    found = errors(doc(step))
    assert any(expected in e for e in found), found


def test_answers_are_named_once_and_read_after_a_prompt() -> None:
    assert any(
        "steps[1].as: 'draft' already names the answer of steps[0]" in e
        for e in errors(doc(PROMPT, PROMPT))
    )
    assert any(
        "steps[0]: reads steps.NAME, but no earlier prompt step" in e for e in errors(doc(MAIL))
    )


def test_plug_ins_may_not_claim_the_ai_effect() -> None:
    found = errors(doc("action: acme.sync\neffect: ai"))
    assert any("steps[0].effect: expected one of email, http, command, file" in e for e in found)


@pytest.mark.parametrize("override", [False, True])
def test_an_ai_drafted_customer_facing_write_always_waits(override: bool) -> None:
    approval = ApprovalSpec(
        mode="until_reviewed", reviewed_runs=1, customer_facing_override=override
    )
    common = dict(mode="production", approval=approval, clean_approved_runs=5, gate_tightened=False)
    drafted = policy.approval_decision(customer_facing=True, ai_drafted=True, **common)
    assert drafted.needs_approval
    assert drafted.reason == "AI-drafted customer-facing output always needs approval"
    # An AI-drafted internal write relaxes like any other once the gate has.
    assert not policy.approval_decision(
        customer_facing=False, ai_drafted=True, **common
    ).needs_approval
    plain = policy.approval_decision(customer_facing=True, ai_drafted=False, **common)
    assert plain.needs_approval is not override
