"""Real receivers for notices on 127.0.0.1: a JSON webhook (apprise's json://) and an
SMTP server that refuses every recipient with a 550 and its text."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

REFUSAL = "5.1.1 <ops@example.test>: mailbox unavailable (test refusal)"


class Webhook:
    """Keeps each JSON body POSTed to it (with its arrival time) and answers `status`."""

    def __init__(self, status: int = 200, answer: bytes = b"") -> None:
        self.received: list[dict] = []
        self.arrived_at: list[float] = []  # time.monotonic()
        self.arrived_wall: list[float] = []  # time.time(), to compare with other processes
        self.paths: list[str] = []
        self.status = status
        self.answer = answer
        self.arrived = threading.Condition()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(hook.status)
                self.send_header("Content-Length", str(len(hook.answer)))
                self.end_headers()
                self.wfile.write(hook.answer)
                with hook.arrived:
                    hook.received.append(body)
                    hook.arrived_at.append(time.monotonic())
                    hook.arrived_wall.append(time.time())
                    hook.paths.append(self.path)
                    hook.arrived.notify_all()

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> Webhook:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def url(self, path: str = "hooks/ops") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def wait_for(self, n: int, timeout: float = 10.0) -> list[dict]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= n, timeout)
            return list(self.received)


class _Refuse:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        return f"550 {REFUSAL}"


class RefusingSmtp:
    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._controller = Controller(_Refuse(), hostname="127.0.0.1", port=self.port)

    def start(self) -> RefusingSmtp:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def settings(self) -> dict:
        return {"host": "127.0.0.1", "port": self.port, "from": "sophmate@example.test"}
