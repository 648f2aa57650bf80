"""http_request: one HTTP call through urllib, with an Idempotency-Key header.

The plan renders the URL, headers and body with secrets left as `${secret:NAME}`
tokens; apply substitutes them just before sending and masks their values in
anything it reports. Redirects are not followed, so a credential is never sent on to
another host. A connection's settings give `base_url` (the step's `path` is joined to
it) and optional default `headers` (text; may hold secret tokens); `username` with the
connection's `secret_ref` sends Basic auth (`Authorization: Basic base64(user:secret)`,
built only when sending, previewed as the token, masked whole and in part). The header
`Idempotency-Key` carries the write's key unless the step sets its own (e.g. derived
from a row, to deduplicate across runs). A request without a connection is only sent
in production: staging never sends to an address that has no staging settings.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from sophmate_desktop.domain.enums import EffectKind
from sophmate_desktop.domain.templates import mask_values
from sophmate_desktop.domain.workflow import StepSpec
from sophmate_desktop.engine.actions._common import (
    SecretLookup,
    connection_settings,
    field_error,
    map_tree,
    render_text,
    render_tree,
)
from sophmate_desktop.engine.actions.base import (
    ActionError,
    ApplyContext,
    ApplyResult,
    PlanContext,
    PlannedWrite,
)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
OUTPUT_LIMIT = 2048
_ERROR_BODY_LIMIT = 300
USER_AGENT = "sophmate-desktop"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[override]
        return None  # urllib then raises HTTPError with the 3xx status


_OPENER = urllib.request.build_opener(_NoRedirect)


def _url(
    step: StepSpec, settings: Mapping[str, Any], variables: dict[str, Any], conn: str | None
) -> str:
    params = step.params
    if params.get("url") is not None:
        url = render_text(params["url"], variables, "url")
        field = "url"
    elif conn is not None and params.get("path") is not None:
        path = render_text(params["path"], variables, "path")
        field = "path"
        base = settings.get("base_url")
        if not settings:
            return f"<base URL of connection {conn!r}>/{path.lstrip('/')}"
        if not isinstance(base, str) or not base:
            raise field_error("connection", f"connection {conn!r} has no base_url")
        url = base.rstrip("/") + "/" + path.lstrip("/")
    else:
        raise field_error("url", "required field is missing (or `path` with a connection)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise field_error(field, f"{url!r} is not an http:// or https:// URL")
    if any(c in url for c in "\r\n\t "):
        raise field_error(field, f"{url!r} contains whitespace")
    return url


def _headers(
    step: StepSpec, settings: Mapping[str, Any], variables: dict[str, Any]
) -> dict[str, str]:
    headers: dict[str, str] = {}
    base = settings.get("headers") or {}
    if isinstance(base, Mapping):
        headers.update({str(k): str(v) for k, v in base.items()})
    given = step.params.get("headers") or {}
    if not isinstance(given, Mapping):
        raise field_error("headers", "expected a mapping of header names to text")
    for name, value in given.items():
        for old in [h for h in headers if h.lower() == str(name).lower()]:
            del headers[old]
        headers[str(name)] = render_text(value, variables, f"headers.{name}")
    for name, value in headers.items():
        if "\r" in value or "\n" in value:
            raise field_error(f"headers.{name}", "a header value may not contain a line break")
    return headers


def _has_header(headers: Mapping[str, str], name: str) -> bool:
    return any(h.lower() == name.lower() for h in headers)


def _basic_auth(settings: Mapping[str, Any], headers: Mapping[str, str]) -> dict | None:
    """The connection's Basic-auth credentials (user, secret name), unless the step or
    the connection sets its own Authorization header."""
    user, ref = settings.get("username"), settings.get("secret_ref")
    if not user or not ref or _has_header(headers, "Authorization"):
        return None
    return {"user": str(user), "secret": str(ref)}


def _preview(method: str, url: str, headers: Mapping[str, str], basic: dict | None) -> str:
    lines = [f"{method} {url}"] + [f"{k}: {v}" for k, v in headers.items()]
    if basic is not None:
        lines.append(f"Authorization: Basic ({basic['user']}:${{secret:{basic['secret']}}})")
    return "\n".join(lines)


class HttpRequest:
    name = "http_request"
    effect = EffectKind.HTTP
    idempotent = False  # only if the server honours Idempotency-Key, which we cannot check

    def plan(self, step: StepSpec, ctx: PlanContext) -> list[PlannedWrite]:
        variables = ctx.template_context()
        conn, settings, unsent = connection_settings(step, ctx, required=False)
        if conn is None and ctx.mode != "production":
            unsent = "no connection with settings for this mode (staging never sends)"
        method = str(step.params.get("method", "POST")).upper()
        if method not in METHODS:
            raise field_error("method", f"expected one of {', '.join(METHODS)}, got {method!r}")
        url = _url(step, settings, variables, conn)
        headers = _headers(step, settings, variables)
        body: str | None = None
        json_value: Any = None
        shown = ""
        if "json" in step.params:
            json_value = render_tree(step.params["json"], variables, "json")
            shown = json.dumps(json_value, indent=2, ensure_ascii=False)
            if not _has_header(headers, "Content-Type"):
                headers["Content-Type"] = "application/json"
        elif step.params.get("body") is not None:
            body = render_text(step.params["body"], variables, "body")
            shown = body
        timeout = float(step.params.get("timeout_s", 30))
        basic = _basic_auth(settings, headers)
        preview = _preview(method, url, headers, basic) + "\n\n" + shown
        if unsent:
            preview = f"(previewed, not sent: {unsent})\n" + preview
        payload: dict[str, Any] = {
            "method": method,
            "url": url,
            "headers": headers,
            "body": body,
            "timeout_s": timeout,
        }
        if "json" in step.params:
            payload["json"] = json_value
        if basic is not None:
            payload["basic_auth"] = basic
        if conn is not None:  # its settings shaped the preview: a change makes it stale
            payload["connection"] = conn
        return [
            PlannedWrite(
                kind=self.name,
                effect=self.effect,
                target=url,
                summary=f"{method} {url}",
                preview=preview,
                payload=payload,
                customer_facing=step.customer_facing,
                sendable=unsent is None,
            )
        ]

    def apply(self, payload: dict[str, Any], ctx: ApplyContext) -> ApplyResult:
        ctx.check()
        secrets = SecretLookup(ctx)
        shown_url = payload["url"]
        url = secrets.substitute(shown_url)
        headers = _sendable_headers(payload, secrets)
        if payload.get("basic_auth"):
            headers["Authorization"] = _basic_header(payload["basic_auth"], secrets)
        data = _request_data(payload, secrets)
        if not _has_header(headers, "Idempotency-Key"):  # a step may derive its own
            headers["Idempotency-Key"] = ctx.idempotency_key
        if not _has_header(headers, "User-Agent"):
            headers["User-Agent"] = USER_AGENT
        request = urllib.request.Request(url, data=data, headers=headers, method=payload["method"])

        def masked(text: str, cut_end: bool = False) -> str:
            return mask_values(text, secrets.values, cut_end=cut_end)

        ctx.check()
        status, reason, head = _send(request, payload, shown_url, masked)
        text = masked(_decoded(head), cut_end=len(head) >= OUTPUT_LIMIT)
        return ApplyResult(
            bytes_written=len(data or b""),
            output=masked(f"HTTP {status} {reason}\n{text}"),
        )


def _sendable_headers(payload: dict[str, Any], secrets: SecretLookup) -> dict[str, str]:
    headers = {k: secrets.substitute(v) for k, v in payload["headers"].items()}
    for name, value in headers.items():
        if "\r" in value or "\n" in value:
            raise ActionError(f"header {name}: a secret's value contains a line break")
    return headers


def _basic_header(basic: Mapping[str, str], secrets: SecretLookup) -> str:
    pair = f"{basic['user']}:{secrets(basic['secret'])}"
    secrets.values.append(pair)  # its base64 is masked whole, not only the secret's cores
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


def _request_data(payload: dict[str, Any], secrets: SecretLookup) -> bytes | None:
    if "json" in payload:
        value = map_tree(payload["json"], secrets.substitute)
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    if payload.get("body") is not None:
        return secrets.substitute(payload["body"]).encode("utf-8")
    return None


def _decoded(head: bytes) -> str:
    """A body's head as text; a character the read cut in two is dropped."""
    return head.decode("utf-8", "ignore") if head else ""


def _send(
    request: urllib.request.Request,
    payload: dict[str, Any],
    shown_url: str,
    masked: Callable[..., str],
) -> tuple[int, str, bytes]:
    """Returns (status, reason, head of the body); a 4xx/5xx or no answer raises ActionError."""
    try:
        with _OPENER.open(request, timeout=float(payload.get("timeout_s", 30))) as resp:
            return resp.status, resp.reason, resp.read(OUTPUT_LIMIT)
    except urllib.error.HTTPError as exc:
        status, reason = exc.code, exc.reason
        try:
            head = exc.read(OUTPUT_LIMIT)
        finally:
            exc.close()
        if status >= 400:
            # Masked before it is shortened: a cut may not split a secret's form.
            text = masked(_decoded(head), cut_end=len(head) >= OUTPUT_LIMIT)
            text = text[:_ERROR_BODY_LIMIT].strip()
            raise ActionError(
                masked(
                    f"{payload['method']} {shown_url} failed: HTTP {status} {reason}"
                    + (f": {text}" if text else "")
                )
            )
        location = exc.headers.get("Location", "")
        return status, reason, f"(redirect to {location} not followed)\n".encode() + head
    except OSError as exc:  # URLError, timeouts and refused connections
        reason_text = getattr(exc, "reason", exc)
        raise ActionError(masked(f"{payload['method']} {shown_url} failed: {reason_text}"))
