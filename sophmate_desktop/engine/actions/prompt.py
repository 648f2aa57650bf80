"""The `prompt` step: ask an AI provider (an `llm` connection) at plan time.

Later writes depend on the answer, so the call is a read made while planning: it
writes nothing itself (an empty plan), its answer goes to `steps.NAME` for the steps
after it (`text`, and `json` with a json_schema), and the call is recorded on the run
(the rendered prompt and the answer, secrets masked; model, tokens, latency, cost and
the provider's request id). A dry run without `dry_run_prompts: true`, a preview and a
staging run whose connection has no staging settings send nothing: they plan with a
clearly marked placeholder answer and record the prompt that would have been sent.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import EffectKind
from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.llm import PLACEHOLDER, LlmSettings, llm_settings, placeholder_json
from sophmate_desktop.domain.workflow import StepSpec
from sophmate_desktop.engine.actions._common import field_error, render_text
from sophmate_desktop.engine.actions.base import (
    ActionError,
    ApplyContext,
    ApplyResult,
    Held,
    PlanContext,
    PlannedWrite,
)
from sophmate_desktop.engine.actions.llm_client import Answer, ProviderError, chat
from sophmate_desktop.secrets import mask_known_values

MAX_RECORDED_CHARS = 20_000  # of a prompt or an answer kept on the run
WAIT_SLICE_S = 0.05
NO_STAGING = "[placeholder answer: this connection has no staging settings]"
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*?)\n\s*```\s*$", re.S)


def _settings(step: StepSpec, ctx: PlanContext) -> tuple[LlmSettings | None, dict]:
    """The connection's settings for this run's mode (None: no staging settings)."""
    name = step.connection or ""
    kind = ctx.connection_kinds.get(name)
    if kind is None:
        raise field_error("connection", f"no connection named {name!r}")
    if kind != "llm":
        raise field_error("connection", f"{name} is a {kind} connection, not an llm one")
    chosen = dict(ctx.connections.get(name) or {})
    if not chosen:
        return None, chosen
    try:
        return llm_settings(chosen, f"connection {name}"), chosen
    except BadInput as exc:
        raise field_error("connection", str(exc))


def _parse_json(text: str, schema: dict, model: str, request_id: str | None) -> Any:
    """The answer as JSON valid against `schema`; ProviderError (retryable) if not."""
    import jsonschema

    fenced = _FENCE.match(text)
    body = fenced.group(1) if fenced else text
    where = f"(model {model}, request id {request_id or 'none given'})"
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise ProviderError(
            f"the answer is not valid JSON: {exc} {where}", request_id=request_id, retryable=True
        )
    error = jsonschema.exceptions.best_match(
        jsonschema.validators.validator_for(schema)(schema).iter_errors(value)
    )
    if error is not None:
        at = "/".join(str(p) for p in error.absolute_path) or "the top level"
        raise ProviderError(
            f"the answer does not match json_schema at {at}: {error.message} {where}",
            request_id=request_id,
            retryable=True,
        )
    return value


def _cut(text: str) -> str:
    masked = mask_known_values(text)
    if len(masked) <= MAX_RECORDED_CHARS:
        return masked
    return masked[:MAX_RECORDED_CHARS] + f"... ({len(masked) - MAX_RECORDED_CHARS} more chars)"


@dataclass
class _Ask:
    """One prompt rendered and ready to send (or to answer with a placeholder)."""

    ctx: PlanContext
    settings: LlmSettings | None
    system: str
    prompt: str
    call: dict[str, Any]


def _wait(future: Future) -> Answer:
    # Short waits: a pause (PlanGuard) or the time limit reaches this thread between
    # them, however long the provider takes.
    while True:
        try:
            return future.result(timeout=WAIT_SLICE_S)
        except FutureTimeout:
            continue


class Prompt:
    name = "prompt"
    effect = EffectKind.AI
    idempotent = True  # it applies nothing: a read at plan time
    payload_is_json = True

    def plan(self, step: StepSpec, ctx: PlanContext) -> list[PlannedWrite]:
        self.plan_many(step, [ctx])
        return []

    def plan_many(self, step: StepSpec, ctxs: list[PlanContext]) -> list[list[PlannedWrite]]:
        """The records of a for_each step together: their calls go out side by side
        (the connection's `concurrency`); answers are kept and recorded in order."""
        asks = [self._prepare(step, ctx) for ctx in ctxs]
        first = asks[0]
        access = first.ctx.prompts
        if first.settings is None or access is None or not access.live:
            for ask in asks:
                self._placeholder(step, ask)
            return [[] for _ in ctxs]
        if access.blocked:
            raise Held(f"AI prompts are paused: {access.blocked}")
        ref = (first.ctx.connections.get(step.connection or "") or {}).get("secret_ref")
        self._send_all(step, asks, access.api_key(ref) if ref else "")
        return [[] for _ in ctxs]

    def _send_all(self, step: StepSpec, asks: list[_Ask], key: str) -> None:
        settings = asks[0].settings
        assert settings is not None
        pool = ThreadPoolExecutor(min(settings.concurrency, len(asks)), "sophmate-prompt")
        max_tokens = int(step.params["max_tokens"])
        futures = [pool.submit(chat, settings, key, a.system, a.prompt, max_tokens) for a in asks]
        kept = 0
        try:
            for ask, future in zip(asks, futures, strict=True):
                self._answered(step, ask, future)
                kept += 1
        except ProviderError:
            # The calls already sent were paid for: wait for them and record them.
            for ask, future in zip(asks[kept + 1 :], futures[kept + 1 :], strict=True):
                if not future.cancel():
                    self._record_only(ask, future)
            raise
        except BaseException:
            # Stopped by a pause or the time limit: the answers already back were paid
            # for and are recorded; the calls still out are not waited for.
            for ask, future in zip(asks[kept:], futures[kept:], strict=True):
                back = future.done() and not future.cancelled()
                if back and not any(c is ask.call for c in ask.ctx.prompt_calls):
                    self._record_only(ask, future)
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _prepare(self, step: StepSpec, ctx: PlanContext) -> _Ask:
        settings, _chosen = _settings(step, ctx)
        variables = ctx.template_context()
        try:
            system = render_text(step.params.get("system") or "", variables, "system")
            prompt = render_text(step.params.get("prompt") or "", variables, "prompt")
        except ActionError as exc:
            raise _of_record(exc, ctx)
        call = {
            "step": 0,  # the executor sets the step's index
            "step_name": step.params.get("as"),
            "record_number": getattr(ctx, "record_number", None),
            "connection": step.connection,
            "provider": settings.provider if settings else "none",
            "model": settings.model if settings else "none",
            "system": _cut(system),
            "prompt": _cut(prompt),
            "attempt": ctx.prompts.attempt if ctx.prompts else 1,
            "at": utcnow(),
        }
        return _Ask(ctx, settings, system, prompt, call)

    def _answered(self, step: StepSpec, ask: _Ask, future: Future) -> None:
        try:
            answer = _wait(future)
        except ProviderError as exc:
            ask.call.update(
                status="failed",
                answer="",
                error=_cut(str(exc)),
                request_id=exc.request_id,
                latency_ms=exc.latency_ms,
            )
            ask.ctx.prompt_calls.append(ask.call)
            raise _of_record(exc, ask.ctx)
        assert ask.settings is not None
        cost = ask.settings.cost(answer.tokens_in, answer.tokens_out)
        ask.call.update(
            status="answered",
            model=answer.model,
            answer=_cut(answer.text),
            tokens_in=answer.tokens_in,
            tokens_out=answer.tokens_out,
            latency_ms=answer.latency_ms,
            cost=cost,
            request_id=answer.request_id,
        )
        parsed = None
        schema = step.params.get("json_schema")
        if schema is not None:
            try:
                parsed = _parse_json(answer.text, schema, answer.model, answer.request_id)
            except ProviderError as exc:
                ask.call.update(status="failed", error=_cut(str(exc)))
                ask.ctx.prompt_calls.append(ask.call)
                raise _of_record(exc, ask.ctx)
        ask.ctx.prompt_calls.append(ask.call)
        entry = {
            "text": answer.text,
            "json": parsed,
            "model": answer.model,
            "tokens": answer.tokens_in + answer.tokens_out,
            "cost": cost,
            "placeholder": False,
        }
        self._keep(step, ask.ctx, entry)

    def _record_only(self, ask: _Ask, future: Future) -> None:
        """A call sent beside one that failed: its cost is recorded, its answer unused."""
        try:
            answer = future.result()
        except ProviderError as exc:
            ask.call.update(status="failed", answer="", error=_cut(str(exc)))
        else:
            assert ask.settings is not None
            ask.call.update(
                status="answered",
                model=answer.model,
                answer=_cut(answer.text),
                tokens_in=answer.tokens_in,
                tokens_out=answer.tokens_out,
                latency_ms=answer.latency_ms,
                cost=ask.settings.cost(answer.tokens_in, answer.tokens_out),
                request_id=answer.request_id,
            )
        ask.ctx.prompt_calls.append(ask.call)

    def _placeholder(self, step: StepSpec, ask: _Ask) -> None:
        why = PLACEHOLDER if ask.settings is not None else NO_STAGING
        ask.call.update(status="placeholder", answer=why)
        ask.ctx.prompt_calls.append(ask.call)
        schema = step.params.get("json_schema")
        entry = {
            "text": why,
            "json": placeholder_json(schema) if schema is not None else None,
            "model": "none",
            "tokens": 0,
            "cost": 0.0,
            "placeholder": True,
        }
        self._keep(step, ask.ctx, entry)

    def _keep(self, step: StepSpec, ctx: PlanContext, entry: dict[str, Any]) -> None:
        name = step.params.get("as")
        if not name:
            return
        number = getattr(ctx, "record_number", None)
        if number is None:
            ctx.answers[name] = entry
        else:
            ctx.record_answers.setdefault(number, {})[name] = entry

    def apply(self, payload: dict[str, Any], ctx: ApplyContext) -> ApplyResult:
        raise ActionError("a prompt step plans no writes: there is nothing to apply")


def _of_record(exc: ActionError, ctx: PlanContext) -> ActionError:
    """`exc` saying which record it is about (plan_records adds it for one-by-one steps)."""
    number = getattr(ctx, "record_number", None)
    if number is not None:
        exc.record_number = number  # type: ignore[attr-defined]
    return exc
