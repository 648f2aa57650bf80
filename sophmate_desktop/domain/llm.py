"""AI providers as connections (kind `llm`) and what prompt steps need of them: the
settings and their check, the cost of a call, what counts as a provider change, the
placeholder answer of a dry run, and which steps use an answer (AI-drafted writes).

Pure Python: the clients that talk to the providers live in engine/llm_client.py.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sophmate_desktop.domain.errors import BadInput

PROVIDERS = ("openai", "anthropic")  # openai: any OpenAI-compatible chat-completions API
LLM_KEYS = (
    "provider",
    "base_url",
    "model",
    "price_in",
    "price_out",
    "timeout_s",
    "concurrency",
)
# A change of these is a provider change (the pause rule applies); a new price or
# timeout is a plain, audited connection change.
PROVIDER_KEYS = ("provider", "base_url", "model")
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_CONCURRENCY = 4  # calls of one for_each step in flight at once
MAX_CONCURRENCY = 32
ANSWER_NAME = re.compile(r"[a-z_][a-z0-9_]{0,63}")
PLACEHOLDER = "[placeholder answer: a dry run sends no prompt (dry_run_prompts: false)]"


@dataclass(frozen=True)
class LlmSettings:
    provider: str
    base_url: str | None
    model: str
    price_in: float  # per million input tokens
    price_out: float  # per million output tokens
    timeout_s: float
    concurrency: int = DEFAULT_CONCURRENCY

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        return (tokens_in * self.price_in + tokens_out * self.price_out) / 1_000_000


def _price(settings: Mapping[str, Any], field: str, key: str) -> float:
    value = settings.get(key, 0)
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadInput(f"{field}.{key}: give a price per million tokens (a number)")
    if value < 0:
        raise BadInput(f"{field}.{key}: a price cannot be negative")
    return float(value)


def _base_url(settings: Mapping[str, Any], field: str, provider: str) -> str | None:
    url = settings.get("base_url")
    if url in (None, ""):
        if provider == "openai":
            raise BadInput(
                f"{field}.base_url: required for an OpenAI-compatible endpoint, e.g. "
                "https://api.openai.com/v1 or http://127.0.0.1:11434/v1 (Ollama)"
            )
        return None  # Anthropic's own API
    if not isinstance(url, str):
        raise BadInput(f"{field}.base_url: expected a URL")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(f"{field}.base_url: {url!r} is not an http:// or https:// URL")
    return url.rstrip("/")


def llm_settings(settings: Mapping[str, Any], field: str = "settings") -> LlmSettings:
    """The checked settings of an `llm` connection; BadInput naming the field."""
    unknown = sorted(set(settings) - set(LLM_KEYS) - {"secret_ref"})
    if unknown:
        raise BadInput(f"{field}.{unknown[0]}: unknown setting (use {', '.join(LLM_KEYS)})")
    provider = settings.get("provider", "openai")
    if provider not in PROVIDERS:
        raise BadInput(f"{field}.provider: use {' or '.join(PROVIDERS)}, not {provider!r}")
    model = settings.get("model")
    if not isinstance(model, str) or not model.strip():
        raise BadInput(f"{field}.model: required (the model's name, e.g. gpt-4o-mini)")
    timeout = settings.get("timeout_s", DEFAULT_TIMEOUT_S)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 600:
        raise BadInput(f"{field}.timeout_s: give more than 0 and at most 600 seconds")
    concurrency = settings.get("concurrency", DEFAULT_CONCURRENCY)
    if (
        isinstance(concurrency, bool)
        or not isinstance(concurrency, int)
        or not 1 <= concurrency <= MAX_CONCURRENCY
    ):
        raise BadInput(
            f"{field}.concurrency: give a whole number of calls from 1 to {MAX_CONCURRENCY}"
        )
    return LlmSettings(
        concurrency=concurrency,
        provider=provider,
        base_url=_base_url(settings, field, provider),
        model=model.strip(),
        price_in=_price(settings, field, "price_in"),
        price_out=_price(settings, field, "price_out"),
        timeout_s=float(timeout),
    )


def is_provider_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether a change of an llm connection's settings (production and staging, and
    its secret) changes the provider: its endpoint, model or key."""
    if old.get("secret_ref") != new.get("secret_ref"):
        return True
    for part in ("settings", "staging_settings"):
        before, after = old.get(part) or {}, new.get(part) or {}
        if any(before.get(k) != after.get(k) for k in PROVIDER_KEYS):
            return True
    return False


def changes_provider(old_kind: str, new_kind: str, old: Mapping, new: Mapping) -> bool:
    """Whether a connection change is a provider change: always for SMTP, HTTP and
    commands; for an llm, a change of endpoint, model or key (not of price or timeout)."""
    if new_kind != "llm" or old_kind != new_kind:
        return True
    return is_provider_change(old, new)


def placeholder_json(schema: Any, depth: int = 0) -> Any:
    """A value of the shape `schema` describes, marked as a placeholder, so that later
    steps' templates (`steps.NAME.json.field`) plan in a dry run without a call."""
    if not isinstance(schema, Mapping) or depth > 8:
        return "[placeholder]"
    if "enum" in schema and isinstance(schema["enum"], list) and schema["enum"]:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {k: placeholder_json(v, depth + 1) for k, v in props.items()}
    if kind == "array":
        return [placeholder_json(schema.get("items"), depth + 1)]
    return {"integer": 0, "number": 0, "boolean": False, "null": None}.get(
        str(kind), "[placeholder]"
    )
