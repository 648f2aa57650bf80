"""One chat call to an AI provider through its official client: `openai` for any
OpenAI-compatible chat-completions endpoint (OpenAI, Azure OpenAI, Ollama, llama.cpp,
vLLM, LM Studio), `anthropic` for Anthropic's messages API.

The clients' own retries are off (`max_retries=0`): a failed call fails the step with
the provider's message, model and request id, and the run is retried per the
workflow's `retry` where that is safe (`ProviderError.retryable`), no sooner than the
provider's `retry-after`. The clients are imported on first use (they cost ~0.5 s)
and kept per endpoint, key and timeout, so the calls of a run share connections.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from sophmate_desktop.domain.llm import LlmSettings
from sophmate_desktop.engine.actions.base import ActionError

# Statuses worth another attempt: the provider is busy or failed on its side.
RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
_clients: dict[tuple, Any] = {}
_clients_lock = threading.Lock()


@dataclass(frozen=True)
class Answer:
    text: str
    tokens_in: int
    tokens_out: int
    request_id: str | None
    latency_ms: float
    model: str


class ProviderError(ActionError):
    """A provider refused or failed a call: its own message, the model, the request id."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        retryable: bool = False,
        retry_after_s: float | None = None,
        latency_ms: float = 0.0,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.request_id = request_id
        self.retryable = retryable
        self.retry_after_s = retry_after_s
        self.latency_ms = latency_ms


def _client(settings: LlmSettings, api_key: str) -> Any:
    key = (settings.provider, settings.base_url, api_key, settings.timeout_s)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            if settings.provider == "anthropic":
                import anthropic

                client = anthropic.Anthropic(
                    api_key=api_key,
                    base_url=settings.base_url,
                    timeout=settings.timeout_s,
                    max_retries=0,
                )
            else:
                import openai

                client = openai.OpenAI(
                    api_key=api_key or "none",  # local servers take any key
                    base_url=settings.base_url,
                    timeout=settings.timeout_s,
                    max_retries=0,
                )
            _clients[key] = client
    return client


def _retry_after(headers: Any) -> float | None:
    if headers is None:
        return None
    raw = headers.get("retry-after-ms")
    try:
        if raw is not None:
            return float(raw) / 1000
        raw = headers.get("retry-after")
        return float(raw) if raw is not None else None
    except ValueError:
        return None  # an HTTP date: the workflow's backoff decides


def _provider_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(getattr(exc, "message", None) or exc)


def _failure(exc: Exception, settings: LlmSettings, started: float) -> ProviderError:
    latency = (time.perf_counter() - started) * 1000
    status = getattr(exc, "status_code", None)
    response = getattr(exc, "response", None)
    request_id = getattr(exc, "request_id", None)
    name = type(exc).__name__
    if status is None:  # no answer: a timeout or a refused connection
        what = "timed out" if "Timeout" in name else "could not be reached"
        message = (
            f"the provider {what} ({_provider_message(exc)}; model {settings.model}, "
            f"timeout {settings.timeout_s:g} s)"
        )
        return ProviderError(message, retryable=True, latency_ms=latency)
    retry_after = _retry_after(getattr(response, "headers", None))
    message = (
        f"the provider answered HTTP {status}: {_provider_message(exc)} "
        f"(model {settings.model}, request id {request_id or 'none given'}"
        + (f", retry after {retry_after:g} s" if retry_after is not None else "")
        + ")"
    )
    return ProviderError(
        message,
        status=status,
        request_id=request_id,
        retryable=status in RETRYABLE_STATUSES,
        retry_after_s=retry_after,
        latency_ms=latency,
    )


def _errors(settings: LlmSettings) -> tuple[type[Exception], ...]:
    if settings.provider == "anthropic":
        import anthropic

        return (anthropic.APIError,)
    import openai

    return (openai.APIError,)


def chat(settings: LlmSettings, api_key: str, system: str, prompt: str, max_tokens: int) -> Answer:
    """Ask once; ProviderError when the provider refuses, fails or does not answer."""
    client = _client(settings, api_key)
    started = time.perf_counter()
    try:
        if settings.provider == "anthropic":
            answer = _anthropic(client, settings, system, prompt, max_tokens)
        else:
            answer = _openai(client, settings, system, prompt, max_tokens)
    except _errors(settings) as exc:
        raise _failure(exc, settings, started) from None
    latency = (time.perf_counter() - started) * 1000
    return Answer(answer[0], answer[1], answer[2], answer[3], latency, answer[4])


def _openai(client: Any, settings: LlmSettings, system: str, prompt: str, max_tokens: int):
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    r = client.chat.completions.create(
        model=settings.model, messages=messages, max_tokens=max_tokens
    )
    text = (r.choices[0].message.content or "") if r.choices else ""
    usage = r.usage
    tokens_in = int(getattr(usage, "prompt_tokens", 0) or 0)
    tokens_out = int(getattr(usage, "completion_tokens", 0) or 0)
    return text, tokens_in, tokens_out, getattr(r, "_request_id", None), r.model or settings.model


def _anthropic(client: Any, settings: LlmSettings, system: str, prompt: str, max_tokens: int):
    extra = {"system": system} if system else {}
    r = client.messages.create(
        model=settings.model,
        max_tokens=max_tokens,
        messages=[{"role": "user", "content": prompt}],
        **extra,
    )
    text = "".join(getattr(block, "text", "") for block in r.content)
    usage = r.usage
    tokens_in = int(getattr(usage, "input_tokens", 0) or 0)
    tokens_out = int(getattr(usage, "output_tokens", 0) or 0)
    return text, tokens_in, tokens_out, getattr(r, "_request_id", None), r.model or settings.model
