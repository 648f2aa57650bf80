"""One call through the official clients to the local stand-in (OpenAI's and
Anthropic's API shapes): the answer with its usage and request id, and each kind of
failure as a ProviderError saying what the provider said, the model and the request
id, and whether another attempt may help."""

from __future__ import annotations

import pytest

from sophmate_desktop.domain.llm import llm_settings
from sophmate_desktop.engine.actions.llm_client import ProviderError, chat
from tests.support.llm_server import llm_server

KEY = "sk-client-test"


@pytest.fixture
def server():
    with llm_server(api_key=KEY) as s:
        yield s


def _settings(server, provider: str, **extra):
    url = server.base_url if provider == "openai" else server.anthropic_url
    return llm_settings({"provider": provider, "base_url": url, "model": "m-1", **extra})


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_an_answer_comes_with_its_usage_and_request_id(server, provider: str) -> None:
    server.queue("Dear supplier, thank you.")
    answer = chat(_settings(server, provider), KEY, "be brief", "say thanks", 50)
    [seen] = server.received
    assert answer.text == "Dear supplier, thank you."
    assert answer.request_id == seen.request_id and answer.model == "m-1"
    assert answer.tokens_in > 0 and answer.tokens_out == 4 and answer.latency_ms > 0
    assert seen.body["max_tokens"] == 50


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_rate_limit_is_retryable_after_what_the_provider_says(server, provider: str) -> None:
    server.fail(429, retry_after=7)
    with pytest.raises(ProviderError) as info:
        chat(_settings(server, provider), KEY, "", "hi", 5)
    err = info.value
    assert (err.status, err.retryable, err.retry_after_s) == (429, True, 7.0)
    assert err.request_id == server.received[0].request_id
    assert str(err) == (
        "the provider answered HTTP 429: Rate limit reached for requests. "
        f"(model m-1, request id {err.request_id}, retry after 7 s)"
    )


FAILURES = [(401, False), (400, False), (500, True), (503, True), (529, True)]


@pytest.mark.parametrize(("status", "retryable"), FAILURES)
def test_which_failures_another_attempt_may_help(server, status: int, retryable: bool) -> None:
    server.fail(status, message=f"provider says {status}")
    with pytest.raises(ProviderError) as info:
        chat(_settings(server, "anthropic"), KEY, "", "hi", 5)
    assert info.value.retryable is retryable
    assert f"HTTP {status}: provider says {status}" in str(info.value)


def test_a_wrong_key_is_refused_with_the_providers_words(server) -> None:
    with pytest.raises(ProviderError) as info:
        chat(_settings(server, "openai"), "sk-wrong", "", "hi", 5)
    assert info.value.status == 401 and not info.value.retryable
    assert "Incorrect API key provided." in str(info.value)
    assert "sk-wrong" not in str(info.value)


def test_no_answer_in_time_is_a_retryable_timeout(server) -> None:
    server.fail(200, delay_s=1.0)
    with pytest.raises(ProviderError) as info:
        chat(_settings(server, "openai", timeout_s=0.2), KEY, "", "hi", 5)
    assert info.value.retryable and info.value.status is None
    assert "timed out" in str(info.value) and "timeout 0.2 s" in str(info.value)


def test_nothing_listening_is_a_retryable_connection_error() -> None:
    settings = llm_settings({"base_url": "http://127.0.0.1:9/v1", "model": "m-1", "timeout_s": 2})
    with pytest.raises(ProviderError) as info:
        chat(settings, "", "", "hi", 5)
    assert info.value.retryable and "could not be reached" in str(info.value)
