"""A secret in every place it travels, with every run made to fail in a way that puts
the secret's forms into the failure's text, then a search of everything the product
wrote for the secret in six encodings (tests/support/secret_search.py).

One secret (`api-token`, in the keyring) is used by:
- an HTTP connection as Basic auth (`username` + `secret_ref`) and, in the step's
  URL, as a token in the query; the server answers 401 with the Authorization header,
  the raw request line and the secret in every form, in a body longer than the part
  the product reads (a form straddles the cut);
- an SMTP connection's password; the server refuses AUTH with a reply that repeats
  the credentials in every form; the same connection carries the e-mail notices;
- a command's environment (`env:`); it prints the secret's forms and exits 3, the
  last form cut by the tail the product keeps;
- a webhook notice target that answers 401 repeating the secret in every form.
What is searched: every file under the trial's folder (the SQLite file, -wal and
-shm, checkpoints, the outcome journal, the engine's log), the events the engine
published (what the tray shows), the bodies the webhook received, and the output of
the CLI's `runs show --json`, `inbox list --json`, `notifications list --json`,
`audit export` (jsonl and csv), `audit list --json`, `workflow export` and
`workflow preview` (the change preview) run as real processes.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.support.secret_search import every_file, search, secret_forms

USER = "ops"
# Characters that each encoding changes: '/' '+' (URL, base64 alphabet), '"' '\\'
# (JSON), '<' '&' "'" (HTML); ASCII, as a URL, an HTTP header and SMTP AUTH need.
SECRET = "Tk9/qz+W\"p<&>'\\S3cr~tV4lue"
REPO = Path(__file__).resolve().parents[2]
_ECHO_CUT = 2048  # bytes of a response body the http_request action reads


def echo(secret: str, user: str = USER) -> str:
    """The secret in every form, as a careless server would repeat it."""
    raw = secret.encode()
    pair = f"{user}:{secret}".encode()
    return "; ".join(
        [
            f"raw={secret}",
            f"basic={base64.b64encode(pair).decode()}",
            f"b64={base64.b64encode(raw).decode()}",
            f"inner=xy{base64.b64encode(b'a' + raw).decode()}",
            f"url={quote(secret, safe='')}",
            f"plus={quote_plus(secret)}",
            f"json={json.dumps({'password': secret})}",
            f"html={html.escape(secret)}",
            f"hex={raw.hex()}",
        ]
    )


class _Echo401(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.requests.append((self.path, self.headers.get("Authorization", "")))  # type: ignore[attr-defined]
        head = f"denied {self.command} {self.path} Authorization: " + self.headers.get(
            "Authorization", ""
        )
        body = (head + " (" + echo(SECRET) + ")\n").encode()
        hexed = SECRET.encode().hex().encode()
        filler = max(0, _ECHO_CUT - len(body) - len(hexed) // 2)
        body += b"." * filler + hexed + b"\n"  # the read stops inside this hex form
        self.send_response(401, "Unauthorized")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET = do_PUT = _answer

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def echo_server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Echo401)
    httpd.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


class _RefusingAuth:
    def __init__(self) -> None:
        self.attempts: list[tuple[str, str]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        self.attempts.append((login, password))
        return AuthResult(
            success=False, handled=False, message=f"535 5.7.8 {login} refused: {echo(password)}"
        )


@contextmanager
def refusing_smtp() -> Iterator[tuple[int, _RefusingAuth]]:
    """An SMTP server on 127.0.0.1 that refuses every login, repeating its password."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    auth = _RefusingAuth()

    class Nothing:
        pass

    controller = Controller(
        Nothing(), hostname="127.0.0.1", port=port, authenticator=auth, auth_require_tls=False
    )
    controller.start()
    try:
        yield port, auth
    finally:
        controller.stop()


WORKFLOW = """\
name: leaky
category: integrations
owner: ops-lead
description: Uses one secret in every way a secret travels, against servers that refuse.
trigger: {{manual: true}}
input: {{read: text}}
output: {{paths: [{out}], staging_paths: [{out}]}}
steps:
  - action: http_request
    connection: status-api
    method: POST
    path: "/hook?token={{{{ secret['api-token'] }}}}&user=ops"
    json: {{note: "{{{{ file.name }}}}"}}
  - action: send_email
    connection: mailer
    to: supplier@example.test
    subject: "Invoice {{{{ file.stem }}}}"
    body: "We received {{{{ file.name }}}}."
  - action: run_command
    argv: {argv}
    env: {{TOKEN: "{{{{ secret['api-token'] }}}}"}}
    timeout_s: 30
approval: {{mode: always}}
retry: {{limit: 0, backoff_s: 0}}
notify:
  on_failure:
    - tray
    - "email:ops@example.test"
    - "webhook:http://127.0.0.1:{hook}/notice"
pause: {{consecutive_failures: 100}}
rollback: Nothing to undo; the servers refused everything.
"""

# The command prints every form on stdout; on stderr a hex form that the kept tail
# (the last 4096 bytes) cuts in two, then exits 3.
COMMAND = """\
import base64, html, json, os, sys
from urllib.parse import quote
s = os.environ["TOKEN"]
r = s.encode()
print("token", s, base64.b64encode(r).decode(), quote(s, safe=""), json.dumps(s),
      html.escape(s), r.hex(), base64.b64encode(("ops:" + s).encode()).decode())
sys.stderr.write(r.hex() + "\\n" + "." * (4096 - len(r.hex()) // 2 - 1))
sys.exit(3)
"""


@dataclass
class LeakReport:
    hits: dict[str, list[str]]
    searched_files: int
    searched_texts: int
    # Evidence that each failure did carry the secret (the trial provoked the fault):
    http_saw_secret: int = 0
    smtp_saw_secret: int = 0
    webhook_notices: int = 0
    failed_writes: int = 0
    notice_errors: int = 0
    texts: dict[str, str] = field(default_factory=dict)

    @property
    def leaked(self) -> int:
        return sum(len(v) for v in self.hits.values())


def _cli(url: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPHMATE_")}
    env.update(
        PYTHONPATH=str(REPO),
        PYTHON_KEYRING_BACKEND="tests.support.inmemory_keyring.InMemoryKeyring",
        QT_QPA_PLATFORM="offscreen",
    )
    done = subprocess.run(
        [sys.executable, "-m", "sophmate_desktop", "--db", url, "--actor", "auditor", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    return done.stdout + done.stderr


def _wait(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def _set_up(lead, http_port: int, smtp_port: int, hook_port: int, out: Path) -> str:
    """The secret, both connections, the notices' mailer and the workflow (its text)."""
    lead.set_secret("api-token", SECRET)
    http_settings = {"base_url": f"http://127.0.0.1:{http_port}", "username": USER}
    lead.save_connection("status-api", "http", http_settings, http_settings, "api-token")
    smtp = {
        "host": "127.0.0.1",
        "port": smtp_port,
        "from": "invoices@example.test",
        "username": USER,
        "timeout_s": 10,
    }
    lead.save_connection("mailer", "smtp", smtp, smtp, "api-token")
    lead.set_notify_email_connection("mailer")
    argv = json.dumps([sys.executable, "-c", COMMAND])
    doc = WORKFLOW.format(out=json.dumps(str(out)), argv=argv, hook=hook_port)
    lead.import_workflow(doc)
    return doc


def _fail_a_run(engine, lead, approver, sample: Path) -> tuple[int, list[int]]:
    """A reviewed dry run, staging, a run whose writes are approved and all fail; back
    when every notice delivery was tried once."""
    from sophmate_desktop.store.models import NoticeDelivery, Write

    dry = engine.run_now("leaky", sample, mode="dry_run")
    assert engine.wait_for_run(dry, 60) == "succeeded", lead.get_run(dry).error
    lead.record_review("leaky", "first_run", notes="dry run checked")
    lead.promote("leaky", "staging")
    lead.enable_workflow("leaky")
    run_id = engine.run_now("leaky", sample)
    assert engine.wait_for_run(run_id, 60) == "awaiting_approval"
    ids = [w.id for w in Write.select(Write.id).where(Write.run == run_id)]
    assert all(r.ok for r in approver.approve(ids, "send them"))

    def settled() -> bool:
        done = Write.select().where(Write.id.in_(ids), Write.status == "failed").count()
        outbox = NoticeDelivery.select()
        return (
            done == len(ids)
            and outbox.count() > 0
            and all(d.attempts >= 1 and d.last_error for d in outbox)
        )

    _wait(settled, 90, "the writes to fail and every notice delivery to be tried")
    return run_id, ids


@contextmanager
def _product_log(path: Path) -> Iterator[None]:
    """The engine's log file (`cli_engine.engine_log_handler`), at DEBUG: everything
    any part of the product logs."""
    from sophmate_desktop.cli_engine import engine_log_handler

    handler = engine_log_handler(path)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    # The test servers' own logs are theirs, not the product's (aiosmtpd logs the
    # replies it sends, secret and all): only the product's records reach the file.
    smtp_log = logging.getLogger("mail.log")
    smtp_log.propagate = False
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        smtp_log.propagate = True
        handler.close()


def run_trial(root: Path) -> LeakReport:
    """The whole trial in `root` (an empty folder); the keyring must be in memory."""
    from sophmate_desktop.console import Console
    from sophmate_desktop.engine.service import Engine
    from sophmate_desktop.store.database import open_database
    from sophmate_desktop.store.models import NoticeDelivery, Write
    from tests.support.notices import Webhook

    url = f"sqlite:///{root / 'sophmate.sqlite3'}"
    out = root / "out"
    out.mkdir()
    sample = root / "invoice-17.txt"
    sample.write_text("invoice 17\n")
    published: list[str] = []
    hook = Webhook(status=401, answer=f"denied ({echo(SECRET)})".encode()).start()
    db = open_database(url)
    engine = None
    try:
        with (
            _product_log(root / "engine.log"),
            echo_server() as httpd,
            refusing_smtp() as (smtp_port, smtp_auth),
        ):
            lead, approver = Console(db, actor="ana"), Console(db, actor="bob")
            doc = _set_up(lead, httpd.server_address[1], smtp_port, hook.port, out)
            engine = Engine(db, workers=1, watch=False, tick_s=0.05)
            lead.events.subscribe(engine.wake)
            approver.events.subscribe(engine.wake)
            engine.events.subscribe(lambda e: published.append(f"{e.kind} {e.data!r}"))
            engine.start()
            run_id, ids = _fail_a_run(engine, lead, approver, sample)
            engine.stop()
            engine = None
            failed = [w.error or "" for w in Write.select().where(Write.id.in_(ids))]
            notice_errors = [d.last_error or "" for d in NoticeDelivery.select()]
            report_texts = _cli_outputs(url, run_id, doc, root)
            report_texts["engine events (tray)"] = "\n".join(published)
            report_texts["webhook bodies"] = json.dumps(hook.received)
            basic = "Basic " + base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
            http_saw = sum(
                1 for path, auth in httpd.requests if SECRET in unquote(path) and auth == basic
            )
            smtp_saw = sum(1 for _u, pw in smtp_auth.attempts if pw == SECRET)
    finally:
        if engine is not None:
            engine.stop()
        db.close()
        hook.stop()
    files = every_file(root)
    forms = secret_forms(SECRET, USER)
    hits = search(forms, [f for f in files if f != sample], report_texts)
    return LeakReport(
        hits=hits,
        searched_files=len(files),
        searched_texts=len(report_texts),
        http_saw_secret=http_saw,
        smtp_saw_secret=smtp_saw,
        webhook_notices=len(hook.received),
        failed_writes=sum(1 for e in failed if "HTTP 401" in e or "535" in e or "code 3" in e),
        notice_errors=sum(1 for e in notice_errors if e),
        texts={"write errors": "\n".join(failed), "notice errors": "\n".join(notice_errors)},
    )


def _cli_outputs(url: str, run_id: int, doc: str, root: Path) -> dict[str, str]:
    edited = root / "leaky-edited.yaml"
    edited.write_text(doc.replace("We received", "We did receive"))
    texts = {
        "runs show --json": _cli(url, "runs", "show", str(run_id), "--json"),
        "runs show": _cli(url, "runs", "show", str(run_id)),
        "inbox list --json": _cli(url, "inbox", "list", "--json"),
        "notifications list --json": _cli(url, "notifications", "list", "--json"),
        "audit list --json": _cli(url, "audit", "list", "--json"),
        "workflow export": _cli(url, "workflow", "export", "leaky"),
        "workflow preview": _cli(url, "workflow", "preview", str(edited)),
    }
    for fmt in ("jsonl", "csv"):
        target = root / f"audit-export.{fmt}"
        texts[f"audit export --format {fmt}"] = _cli(
            url, "audit", "export", "--format", fmt, "--output", str(target)
        )
    return texts
