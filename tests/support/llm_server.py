"""A stand-in for an AI provider on 127.0.0.1: OpenAI's chat-completions API
(`POST /v1/chat/completions`) and, smaller, Anthropic's messages API
(`POST /v1/messages`), answering the way the real services do: a usage block, a
request id header (`x-request-id` / `request-id`), error bodies in each API's shape,
429 with `retry-after` and 5xx on demand.

The product talks to it through the real `openai` and `anthropic` clients. By hand:

    python -m tests.support.llm_server --port 11434

serves until Ctrl+C (an Ollama-style base URL: http://127.0.0.1:11434/v1).

What it answers: `answers` (a queue of texts, taken in order of arrival) when given,
else the `answer(messages)` function (`answer_by` picks a reply by what the prompt
says), else a short reply that quotes the prompt's last line.
`fail(status, times=1, retry_after=None, message=...)` makes the next requests fail.
"""

from __future__ import annotations

import argparse
import itertools
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ids = itertools.count(1)


def _tokens(text: str) -> int:
    """A crude token count (words), like a tokenizer would give roughly."""
    return max(1, len(text.split()))


def default_answer(messages: list[dict]) -> str:
    last = str(messages[-1].get("content", "")) if messages else ""
    line = last.strip().splitlines()[-1] if last.strip() else ""
    return f"Draft reply: thank you, we received it. ({line[:80]})"


@dataclass
class Failure:
    status: int
    message: str
    retry_after: float | None = None
    delay_s: float = 0.0  # answer this late (a timeout on the client's side)


@dataclass
class Received:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]  # lower-case names
    body: dict[str, Any]
    request_id: str
    status: int
    server_s: float = 0.0


@dataclass
class LlmServer:
    port: int = 0
    answers: deque = field(default_factory=deque)
    answer: Callable[[list[dict]], str] = default_answer
    api_key: str | None = None  # when set, other keys get 401
    delay_s: float = 0.0  # every answer this late
    received: list[Received] = field(default_factory=list)
    _failures: deque = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def anthropic_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail(
        self,
        status: int,
        times: int = 1,
        *,
        retry_after: float | None = None,
        message: str | None = None,
        delay_s: float = 0.0,
    ) -> None:
        text = message or {
            401: "Incorrect API key provided.",
            429: "Rate limit reached for requests.",
            500: "The server had an error while processing your request.",
            503: "The engine is currently overloaded.",
        }.get(status, f"error {status}")
        with self._lock:
            for _ in range(times):
                self._failures.append(Failure(status, text, retry_after, delay_s))

    def answer_by(self, replies: dict[str, str]) -> None:
        """Answer with the reply whose key the prompt contains (calls of a for_each
        step go out side by side, so their order of arrival is not the rows')."""

        def answer(messages: list[dict]) -> str:
            prompt = str(messages[-1].get("content", "")) if messages else ""
            return next((v for k, v in replies.items() if k in prompt), default_answer(messages))

        self.answer = answer

    def queue(self, *texts: str) -> None:
        with self._lock:
            self.answers.extend(texts)

    def _next_failure(self) -> Failure | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def _next_text(self, messages: list[dict]) -> str:
        with self._lock:
            if self.answers:
                return self.answers.popleft()
        return self.answer(messages)


def _error_body(anthropic: bool, status: int, message: str) -> dict:
    if anthropic:
        kind = {
            401: "authentication_error",
            429: "rate_limit_error",
            529: "overloaded_error",
        }.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}
    kind = {401: "invalid_request_error", 429: "rate_limit_exceeded"}.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


def _chat_body(req: dict, text: str, request_id: str) -> dict:
    prompt = sum(_tokens(str(m.get("content", ""))) for m in req.get("messages", []))
    completion = _tokens(text)
    return {
        "id": f"chatcmpl-{request_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": req.get("model", "stand-in"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def _messages_body(req: dict, text: str, request_id: str) -> dict:
    system = req.get("system") or ""
    prompt = _tokens(str(system)) + sum(
        _tokens(str(m.get("content", ""))) for m in req.get("messages", [])
    )
    return {
        "id": f"msg_{request_id}",
        "type": "message",
        "role": "assistant",
        "model": req.get("model", "stand-in"),
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": prompt, "output_tokens": _tokens(text)},
    }


def _decide(server: LlmServer, headers, body: dict, anthropic: bool, request_id: str) -> tuple:
    """(status, JSON body, extra headers) of one answer."""
    key = headers.get("x-api-key") if anthropic else None
    if key is None:
        key = (headers.get("Authorization") or "").removeprefix("Bearer ")
    if server.api_key is not None and key != server.api_key:
        return 401, _error_body(anthropic, 401, "Incorrect API key provided."), {}
    failure = server._next_failure()
    if failure is not None:
        if failure.delay_s:
            time.sleep(failure.delay_s)
        extra = {}
        if failure.retry_after is not None:
            extra["retry-after"] = f"{failure.retry_after:g}"
        return failure.status, _error_body(anthropic, failure.status, failure.message), extra
    if server.delay_s:
        time.sleep(server.delay_s)
    text = server._next_text(_messages_of(body, anthropic))
    make = _messages_body if anthropic else _chat_body
    return 200, make(body, text, request_id), {}


def _handler(server: LlmServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The headers and the body go out in two writes: with Nagle on, a kept-alive
        # connection waits for the client's delayed ACK (~40 ms per answer).
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            started = time.perf_counter()
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            anthropic = self.path.rstrip("/").endswith("/messages")
            request_id = f"req_{next(_ids):06d}"
            status, doc, extra = _decide(server, self.headers, body, anthropic, request_id)
            headers = {k.lower(): v for k, v in self.headers.items()}
            seen = Received(self.path, headers, body, request_id, status)
            with server._lock:
                server.received.append(seen)
            payload = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("request-id" if anthropic else "x-request-id", request_id)
            for k, v in extra.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)
            seen.server_s = time.perf_counter() - started

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def _messages_of(body: dict, anthropic: bool) -> list[dict]:
    messages = list(body.get("messages") or [])
    if anthropic and body.get("system"):
        messages.insert(0, {"role": "system", "content": body["system"]})
    return messages


@contextmanager
def llm_server(port: int = 0, **settings: Any) -> Iterator[LlmServer]:
    """A running stand-in (its port chosen freely unless given); stopped on exit."""
    server = LlmServer(**settings)
    httpd = _Server(("127.0.0.1", port), _handler(server))
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, name="llm-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.close_connections()  # clients keep connections alive: end their threads
        httpd.server_close()  # joins the request threads
        thread.join(5)


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request, client_address) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            still = list(self._open)
        for sock in still:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=11434)
    parser.add_argument("--api-key", default=None, help="refuse other keys with 401")
    args = parser.parse_args(argv)
    with llm_server(args.port, api_key=args.api_key) as server:
        print(f"OpenAI-compatible: {server.base_url}  Anthropic: {server.anthropic_url}")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
