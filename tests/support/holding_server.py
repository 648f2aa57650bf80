"""An HTTP server on 127.0.0.1 that holds every request until released: an engine
applying a batch that ends with a request to it stays mid-apply (its file writes done,
the batch not recorded) for as long as a test needs, e.g. to kill the engine there."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HoldingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Held)
        self.released = threading.Event()
        self.bodies: list[dict] = []
        self._arrived = threading.Condition()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def arrived(self, body: dict) -> None:
        with self._arrived:
            self.bodies.append(body)
            self._arrived.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.bodies) >= count, timeout)

    def handle_error(self, request, client_address) -> None:
        pass  # a held client that was killed: its socket is gone, nothing to answer


class _Held(BaseHTTPRequestHandler):
    server: HoldingServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.arrived(json.loads(self.rfile.read(length) or b"{}"))
        self.server.released.wait(120)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def holding_server() -> Iterator[HoldingServer]:
    """A running server; released and stopped on exit."""
    httpd = HoldingServer()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.released.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
