"""http_request against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sophmate_desktop.engine.actions import ActionError, apply_write, plan_step
from tests.support.actions import SECRETS, step
from tests.support.echo_server import echoed_forms, refusing_server

TOKEN = SECRETS["api-token"]


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    base_url: str
    requests: list[Recorded] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.record.requests.append(
            Recorded(self.command, self.path, dict(self.headers.items()), body)
        )
        if self.path.startswith("/fail"):
            self._reply(500, f"denied for {self.headers.get('Authorization')}".encode())
        elif self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", f"http://evil.example.test{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._reply(201, b'{"id": 17, "status": "created"}')

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Server]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    record = Server(f"http://127.0.0.1:{httpd.server_address[1]}")
    httpd.record = record  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield record
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def _api_step(**extra: Any):
    params = dict(
        connection="orders-api",
        method="POST",
        path="/v1/orders/{{ row.number }}",
        headers={"Authorization": "Bearer {{ secret['api-token'] }}"},
        json={"number": "{{ row.number }}", "lines": [{"qty": 2, "note": "{{ row.note }}"}]},
        customer_facing=True,
    )
    params.update(extra)
    return step("http_request", **params)


def _plan(make_plan_ctx, server: Server, mode: str = "production", **extra: Any):
    conns = {"orders-api": {"base_url": server.base_url + "/"}}
    ctx = make_plan_ctx(mode=mode, input=[{"number": "42", "note": 'say "hi"'}], connections=conns)
    (w,) = plan_step(_api_step(for_each="rows", **extra), ctx, 0)
    return w


def test_plan_shows_the_request_with_the_secret_as_a_token(make_plan_ctx, server):
    w = _plan(make_plan_ctx, server)
    assert w.kind == "http_request" and w.effect == "http" and w.customer_facing
    assert w.target == f"{server.base_url}/v1/orders/42"
    assert w.preview.splitlines()[:3] == [
        f"POST {server.base_url}/v1/orders/42",
        "Authorization: Bearer ${secret:api-token}",
        "Content-Type: application/json",
    ]
    assert '"note": "say \\"hi\\""' in w.preview  # pretty-printed JSON
    assert TOKEN not in w.preview and TOKEN not in json.dumps(w.payload)
    assert w.payload["headers"]["Authorization"] == "Bearer ${secret:api-token}"
    assert w.sendable and server.requests == []


def test_apply_sends_with_the_secret_and_the_idempotency_key(make_plan_ctx, make_apply_ctx, server):
    w = _plan(make_plan_ctx, server)
    result = apply_write(w.kind, w.payload, make_apply_ctx("run7-w1"))
    (req,) = server.requests
    assert (req.method, req.path) == ("POST", "/v1/orders/42")
    assert req.headers["Authorization"] == f"Bearer {TOKEN}"
    assert req.headers["Idempotency-Key"] == "run7-w1"
    assert json.loads(req.body) == {"number": "42", "lines": [{"qty": 2, "note": 'say "hi"'}]}
    assert result.output == 'HTTP 201 Created\n{"id": 17, "status": "created"}'
    assert result.bytes_written == len(req.body)


def test_an_error_status_fails_with_the_status_and_a_masked_body(
    make_plan_ctx, make_apply_ctx, server
):
    w = _plan(make_plan_ctx, server, path="/fail")
    with pytest.raises(ActionError) as info:
        apply_write(w.kind, w.payload, make_apply_ctx())
    message = str(info.value)
    assert "HTTP 500" in message and "denied for Bearer ••••••" in message
    assert TOKEN not in message


def test_redirects_are_not_followed(make_plan_ctx, make_apply_ctx, server):
    w = _plan(make_plan_ctx, server, path="/redirect")
    result = apply_write(w.kind, w.payload, make_apply_ctx())
    assert result.output.startswith("HTTP 302")
    assert "not followed" in result.output
    assert len(server.requests) == 1


def test_staging_without_staging_settings_stays_planned(make_plan_ctx, server):
    ctx = make_plan_ctx(mode="staging", connections={"orders-api": {}})
    (w,) = plan_step(_api_step(path="/v1/ping", json={"ping": True}), ctx, 0)
    assert w.sendable is False
    assert w.preview.startswith("(previewed, not sent: connection 'orders-api' has no staging")


def test_production_without_settings_is_an_error(make_plan_ctx):
    ctx = make_plan_ctx(mode="production", connections={})
    with pytest.raises(ActionError, match=r"^steps\[2\]\.connection: .*no production settings"):
        plan_step(_api_step(path="/v1/ping", json={}), ctx, 2)


def test_a_plain_url_with_a_text_body(make_plan_ctx, make_apply_ctx, server):
    s = step(
        "http_request",
        method="put",
        url=server.base_url + "/notes/{{ run.id }}",
        body="run {{ run.id }} done",
        headers={"Content-Type": "text/plain"},
    )
    (w,) = plan_step(s, make_plan_ctx(), 0)
    assert w.customer_facing is False
    apply_write(w.kind, w.payload, make_apply_ctx())
    (req,) = server.requests
    assert (req.method, req.path, req.body) == ("PUT", "/notes/7", b"run 7 done")


def test_an_unreachable_server_is_an_action_error(make_plan_ctx, make_apply_ctx, server):
    s = step("http_request", url="http://127.0.0.1:9/x?key={{ secret['api-token'] }}")
    (w,) = plan_step(s, make_plan_ctx(), 0)
    with pytest.raises(ActionError) as info:
        apply_write(w.kind, w.payload, make_apply_ctx())
    assert "${secret:api-token}" in str(info.value) and TOKEN not in str(info.value)


def test_a_url_that_is_not_http_is_refused(make_plan_ctx):
    with pytest.raises(ActionError, match=r"^steps\[0\]\.url: 'file:///etc/passwd' is not"):
        plan_step(step("http_request", url="file:///etc/passwd"), make_plan_ctx(), 0)


def test_a_plain_url_is_not_sent_from_staging(make_plan_ctx, server):
    s = step("http_request", url=server.base_url + "/hook", body="x")
    (w,) = plan_step(s, make_plan_ctx(mode="staging"), 0)
    assert w.sendable is False and "staging never sends" in w.preview


def test_a_step_may_set_its_own_idempotency_key(make_plan_ctx, make_apply_ctx, server):
    s = step(
        "http_request",
        url=server.base_url + "/orders",
        headers={"Idempotency-Key": "order-{{ run.id }}"},
    )
    (w,) = plan_step(s, make_plan_ctx(), 0)
    apply_write(w.kind, w.payload, make_apply_ctx("ignored"))
    (req,) = server.requests
    assert req.headers["Idempotency-Key"] == "order-7"


def test_a_refusal_that_echoes_the_secret_in_six_encodings_is_masked_in_every_one(
    make_plan_ctx, make_apply_ctx
):
    """A real server on 127.0.0.1 answers 401 with the credentials it got: as a Basic
    header, URL-encoded, JSON-escaped, HTML-escaped, in hex and base64."""
    secret = SECRETS["api-token"]
    with refusing_server() as port:
        params = dict(
            url=f"http://127.0.0.1:{port}/login",
            json={"user": "ops", "password": "{{ secret['api-token'] }}"},
        )
        (w,) = plan_step(step("http_request", **params), make_plan_ctx(), 0)
        with pytest.raises(ActionError) as info:
            apply_write(w.kind, w.payload, make_apply_ctx())
    message = str(info.value)
    assert "HTTP 401" in message and "basic=" in message
    for name, form in echoed_forms("ops", secret).items():
        shown = form if name != "json" else json.dumps(secret)[1:-1]
        assert shown not in message, name
    assert secret not in message
