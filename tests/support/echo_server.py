"""An HTTP server on 127.0.0.1 that refuses every request with 401 and echoes the
credentials it was sent in the forms a careless server (or proxy) would: the Basic
header, its value URL-encoded, JSON-escaped, HTML-escaped and in hex."""

from __future__ import annotations

import base64
import html
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, quote_plus


def echoed_forms(user: str, secret: str) -> dict[str, str]:
    """The forms of `secret` the server writes into its refusal (checked by the tests)."""
    pair = f"{user}:{secret}".encode()
    raw = secret.encode()
    return {
        "basic": base64.b64encode(pair).decode(),
        "basic_urlsafe_unpadded": base64.urlsafe_b64encode(pair).decode().rstrip("="),
        "base64": base64.b64encode(raw).decode(),
        "quote": quote(secret, safe=""),
        "quote_plus": quote_plus(secret),
        "json": json.dumps({"password": secret}),
        "html": html.escape(secret),
        "hex": raw.hex(),
    }


class _Refuse(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        forms = echoed_forms(body.get("user", ""), body.get("password", ""))
        text = "; ".join(f"{k}={v}" for k, v in forms.items())
        header = self.headers.get("Authorization", "")
        payload = f"denied {header} ({text})".encode()
        self.send_response(401, "Unauthorized")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_PUT = _answer

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def refusing_server() -> Iterator[int]:
    """The port of a running server; stopped on exit."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
