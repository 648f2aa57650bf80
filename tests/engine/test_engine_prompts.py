"""Prompt steps in a real engine against the local AI stand-in, through the real
`openai` and `anthropic` clients: answers flow into later writes (AI-drafted), every
call is recorded on the run with tokens, latency and cost, json_schema is enforced,
and provider failures fail the run with the provider's message and request id."""

from __future__ import annotations

from pathlib import Path

import pytest

from sophmate_desktop.domain.errors import PolicyRefused
from sophmate_desktop.store.models import AuditEvent, PromptCall, Run, Write
from tests.support.engine import to_staging, wait_until
from tests.support.llm_server import llm_server
from tests.support.prompts import (
    JSON_STEPS,
    add_llm,
    add_smtp,
    invoices_csv,
    prompt_workflow,
)


@pytest.fixture
def server():
    with llm_server(api_key="sk-test-drafting-llm") as s:
        yield s


def _staged(sconsole, engine, tmp_path: Path, name: str = "drafts", **kw) -> Path:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    sconsole.import_workflow(prompt_workflow(name, out, **kw))
    to_staging(sconsole, engine, name, invoices_csv(tmp_path / "sample", 1))
    return out


def test_drafted_replies_wait_in_the_inbox_with_the_calls_on_the_run(
    sconsole, sqlite_db, make_engine, tmp_path: Path, server
) -> None:
    add_llm(sconsole, server.base_url)
    add_smtp(sconsole)
    engine = make_engine(sqlite_db, sconsole)
    _staged(sconsole, engine, tmp_path)
    server.received.clear()
    server.answer_by(
        {
            "Supplier 1 ": "Dear Supplier 1, thanks.",
            "Supplier 2 ": "Dear Supplier 2, thanks.",
            "Supplier 3 ": "Dear Supplier 3.",
        }
    )
    run_id = engine.run_now("drafts", invoices_csv(tmp_path / "in", 3))
    assert engine.wait_for_run(run_id, 30) == "awaiting_approval", sconsole.get_run(run_id).error

    writes = list(Write.select().where(Write.run == run_id).order_by(Write.seq))
    assert [w.payload["body"] for w in writes] == [
        "Dear Supplier 1, thanks.",
        "Dear Supplier 2, thanks.",
        "Dear Supplier 3.",
    ]
    assert all(w.ai_drafted and w.customer_facing and w.status == "pending" for w in writes)
    calls = list(PromptCall.select().where(PromptCall.run_id == run_id).order_by(PromptCall.seq))
    assert [c.record_number for c in calls] == [1, 2, 3]
    assert sorted(c.request_id for c in calls) == sorted(r.request_id for r in server.received)
    assert "Supplier 2" in calls[1].prompt and calls[1].answer == "Dear Supplier 2, thanks."
    first = next(r for r in server.received if "Supplier 1 " in str(r.body))
    assert first.headers["authorization"] == "Bearer sk-test-drafting-llm"
    assert first.body["messages"][0] == {
        "role": "system",
        "content": "You draft short, polite replies to suppliers.",
    }
    assert first.body["max_tokens"] == 200 and first.body["model"] == "gpt-x"
    cost = sum(c.cost for c in calls)
    expected = sum(c.tokens_in * 2.5 + c.tokens_out * 10.0 for c in calls) / 1e6
    assert cost == pytest.approx(expected) and cost > 0
    assert Run.get_by_id(run_id).cost == pytest.approx(cost)
    events = AuditEvent.select().where(
        AuditEvent.run == run_id, AuditEvent.action == "prompt.called"
    )
    assert events.count() == 3
    assert "sk-test" not in "".join(c.prompt + c.answer + c.system for c in calls)


def test_anthropic_connection_and_json_answers_feed_file_writes(
    sconsole, sqlite_db, make_engine, tmp_path: Path, server
) -> None:
    add_llm(sconsole, server.anthropic_url, provider="anthropic", model="claude-x")
    engine = make_engine(sqlite_db, sconsole)
    out = _staged(sconsole, engine, tmp_path, steps=JSON_STEPS)
    server.received.clear()
    server.answer_by(
        {
            "INV-1 ": '{"category": "freight", "urgent": true}',
            "INV-2 ": '```json\n{"category": "office", "urgent": false}\n```',
        }
    )
    run_id = engine.run_now("drafts", invoices_csv(tmp_path / "in", 2))
    assert engine.wait_for_run(run_id, 30) == "awaiting_approval", sconsole.get_run(run_id).error
    previews = [w.preview for w in Write.select().where(Write.run == run_id).order_by(Write.seq)]
    assert "freight urgent=True" in previews[0] and "office urgent=False" in previews[1]
    assert server.received[0].path == "/v1/messages"
    headers = server.received[0].headers  # the client's way to send the key
    assert "sk-test-drafting-llm" in (headers.get("x-api-key") or headers["authorization"])
    calls = PromptCall.select().where(PromptCall.run_id == run_id)
    assert {c.provider for c in calls} == {"anthropic"}
    assert all(c.request_id.startswith("req_") for c in calls)
    assert out.exists()


def test_an_answer_that_breaks_the_schema_fails_the_run_naming_it(
    sconsole, sqlite_db, make_engine, tmp_path: Path, server
) -> None:
    add_llm(sconsole, server.base_url)
    engine = make_engine(sqlite_db, sconsole)
    _staged(sconsole, engine, tmp_path, steps=JSON_STEPS)
    server.queue('{"category": "freight"}')
    run_id = engine.run_now("drafts", invoices_csv(tmp_path / "in", 1))
    assert engine.wait_for_run(run_id, 30) == "failed"
    error = sconsole.get_run(run_id).error
    assert "steps[0]" in error and "json_schema" in error and "'urgent' is a required" in error
    assert "model gpt-x" in error and "request id req_" in error
    [call] = PromptCall.select().where(PromptCall.run_id == run_id)
    assert call.status == "failed" and call.tokens_in > 0
    assert Run.get_by_id(run_id).cost == pytest.approx(call.cost) and call.cost > 0


def test_a_rate_limit_is_retried_per_retry_no_sooner_than_retry_after(
    sconsole, sqlite_db, make_engine, tmp_path: Path, server
) -> None:
    add_llm(sconsole, server.base_url)
    add_smtp(sconsole)
    engine = make_engine(sqlite_db, sconsole)
    _staged(sconsole, engine, tmp_path, retry=2, backoff=0)
    server.fail(429, retry_after=1)
    run_id = engine.run_now("drafts", invoices_csv(tmp_path / "in", 2))
    assert engine.wait_for_run(run_id, 30) == "awaiting_approval", sconsole.get_run(run_id).error
    run = Run.get_by_id(run_id)
    assert run.attempt == 2
    retry = AuditEvent.get(AuditEvent.run == run_id, AuditEvent.action == "run.retry_scheduled")
    assert "HTTP 429" in retry.reason and "retry after 1 s" in retry.reason
    assert retry.details["backoff_s"] == 1
    calls = list(PromptCall.select().where(PromptCall.run_id == run_id).order_by(PromptCall.seq))
    # The second row's call went out beside the refused one: paid for, so recorded.
    assert sorted((c.attempt, c.status) for c in calls) == [
        (1, "answered"),
        (1, "failed"),
        (2, "answered"),
        (2, "answered"),
    ]
    assert Run.get_by_id(run_id).cost == pytest.approx(sum(c.cost for c in calls))


def test_a_refused_key_fails_at_once_with_the_providers_message(
    sconsole, sqlite_db, make_engine, tmp_path: Path, server
) -> None:
    add_llm(sconsole, server.base_url)
    add_smtp(sconsole)
    engine = make_engine(sqlite_db, sconsole)
    _staged(sconsole, engine, tmp_path, retry=3, backoff=0)
    sconsole.set_secret("llm-key", "sk-wrong")
    run_id = engine.run_now("drafts", invoices_csv(tmp_path / "in", 1))
    assert engine.wait_for_run(run_id, 30) == "failed"
    run = Run.get_by_id(run_id)
    assert run.attempt == 1  # a 401 is not worth another attempt
    assert "HTTP 401: Incorrect API key provided." in run.error
    assert "model gpt-x" in run.error and "request id req_" in run.error
    assert "sk-wrong" not in run.error + str(run.diagnostics)
    assert run.diagnostics["provider"]["status"] == 401


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_then_success(
    sconsole, sqlite_db, make_engine, tmp_path: Path, server, status: int
) -> None:
    add_llm(sconsole, server.base_url)
    add_smtp(sconsole)
    engine = make_engine(sqlite_db, sconsole)
    _staged(sconsole, engine, tmp_path, retry=1, backoff=0)
    server.fail(status)
    run_id = engine.run_now("drafts", invoices_csv(tmp_path / "in", 1))
    assert engine.wait_for_run(run_id, 30) == "awaiting_approval"
    assert Run.get_by_id(run_id).attempt == 2


def test_a_timeout_fails_the_last_attempt_saying_so(
    sconsole, sqlite_db, make_engine, tmp_path: Path, server
) -> None:
    add_llm(sconsole, server.base_url, timeout_s=0.3)
    add_smtp(sconsole)
    engine = make_engine(sqlite_db, sconsole)
    _staged(sconsole, engine, tmp_path)
    server.fail(200, delay_s=1.5)
    run_id = engine.run_now("drafts", invoices_csv(tmp_path / "in", 1))
    assert engine.wait_for_run(run_id, 30) == "failed"
    error = Run.get_by_id(run_id).error
    assert "timed out" in error and "model gpt-x" in error and "timeout 0.3 s" in error


def test_a_dry_run_plans_with_a_marked_placeholder_and_sends_nothing(
    sconsole, sqlite_db, make_engine, tmp_path: Path, server
) -> None:
    add_llm(sconsole, server.base_url)
    add_smtp(sconsole)
    engine = make_engine(sqlite_db, sconsole)
    out = tmp_path / "out"
    out.mkdir()
    sconsole.import_workflow(prompt_workflow("drafts", out))
    run_id = engine.run_now("drafts", invoices_csv(tmp_path / "in", 2), mode="dry_run")
    assert engine.wait_for_run(run_id, 30) == "succeeded"
    assert server.received == []
    calls = list(PromptCall.select().where(PromptCall.run_id == run_id))
    assert [c.status for c in calls] == ["placeholder", "placeholder"]
    assert "Supplier 2" in calls[1].prompt  # what would be sent, seen before any call
    bodies = [w.payload["body"] for w in Write.select().where(Write.run == run_id)]
    assert all(b.startswith("[placeholder answer") for b in bodies)
    assert Run.get_by_id(run_id).cost == 0


def test_dry_run_prompts_asks_the_provider_and_the_cost_counts(
    sconsole, sqlite_db, make_engine, tmp_path: Path, server
) -> None:
    add_llm(sconsole, server.base_url)
    add_smtp(sconsole)
    engine = make_engine(sqlite_db, sconsole)
    out = tmp_path / "out"
    out.mkdir()
    sconsole.import_workflow(prompt_workflow("drafts", out, extra="dry_run_prompts: true\n"))
    run_id = engine.run_now("drafts", invoices_csv(tmp_path / "in", 2), mode="dry_run")
    assert engine.wait_for_run(run_id, 30) == "succeeded"
    assert len(server.received) == 2
    assert all(w.status == "planned" for w in Write.select().where(Write.run == run_id))
    assert Run.get_by_id(run_id).cost > 0


def test_the_ai_switch_holds_a_run_that_reaches_a_prompt(
    sconsole, sqlite_db, make_engine, tmp_path: Path, server
) -> None:
    add_llm(sconsole, server.base_url)
    add_smtp(sconsole)
    engine = make_engine(sqlite_db, sconsole)
    _staged(sconsole, engine, tmp_path)
    server.received.clear()
    sconsole.pause_effect("ai", "provider incident")
    run_id = engine.run_now("drafts", invoices_csv(tmp_path / "in", 1))
    assert engine.wait_for_run(run_id, 30) == "held"
    assert server.received == []
    held = AuditEvent.get(AuditEvent.run == run_id, AuditEvent.action == "run.held")
    assert "provider incident" in held.reason
    with pytest.raises(PolicyRefused) as refused:  # replaying now would only hold it again
        sconsole.replay_held([run_id], "too soon")
    assert "provider incident" in str(refused.value)
    sconsole.resume_effect("ai", "incident over")
    assert sconsole.replay_held([run_id], "incident over") == 1
    assert engine.wait_for_run(run_id, 30) == "awaiting_approval"
    assert len(server.received) == 1


def test_the_ai_switch_stops_a_run_in_flight_between_calls(
    sconsole, sqlite_db, make_engine, tmp_path: Path, server
) -> None:
    add_llm(sconsole, server.base_url)
    add_smtp(sconsole)
    engine = make_engine(sqlite_db, sconsole)
    _staged(sconsole, engine, tmp_path)
    server.received.clear()
    server.delay_s = 0.2
    run_id = engine.run_now("drafts", invoices_csv(tmp_path / "in", 50))
    # A sixth call goes out only once two of the first four (concurrency 4) came back.
    wait_until(lambda: len(server.received) >= 6, 20, "six calls")
    sconsole.pause_effect("ai", "runaway drafts")
    assert engine.wait_for_run(run_id, 30) == "held"
    sent = len(server.received)
    assert sent < 50
    recorded = PromptCall.select().where(PromptCall.run_id == run_id).count()
    assert recorded >= sent - 4  # the calls in flight when it stopped (concurrency 4) are not
    assert Run.get_by_id(run_id).cost > 0


def test_staging_without_staging_llm_settings_sends_nothing_and_drafts_stay_previews(
    sconsole, sqlite_db, make_engine, tmp_path: Path, server
) -> None:
    add_llm(sconsole, server.base_url, staging=False)
    add_smtp(sconsole)
    engine = make_engine(sqlite_db, sconsole)
    _staged(sconsole, engine, tmp_path)
    run_id = engine.run_now("drafts", invoices_csv(tmp_path / "in", 2))
    assert engine.wait_for_run(run_id, 30) == "succeeded"
    assert server.received == []
    writes = list(Write.select().where(Write.run == run_id))
    assert {(w.status, w.ai_drafted) for w in writes} == {("planned", True)}
    assert all(w.payload["body"].startswith("[placeholder answer: this connection has no staging")
               for w in writes)  # fmt: skip
    assert {c.status for c in PromptCall.select().where(PromptCall.run_id == run_id)} == {
        "placeholder"
    }
