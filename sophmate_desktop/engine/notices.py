"""Failure notices to people outside the window: e-mail and JSON webhooks named in a
workflow's `notify.on_failure` (the tray reads the notification table instead).

Delivery uses the e-mail and HTTP actions' own code (one SMTP client, one HTTP client
in the product) on a thread of its own, so a slow or failing notifier never holds a run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from peewee import Database

from sophmate_desktop.engine.actions.base import ApplyContext
from sophmate_desktop.engine.actions.email import SendEmail
from sophmate_desktop.engine.actions.http import HttpRequest
from sophmate_desktop.store.workflows import LoadedWorkflow, connection_settings

log = logging.getLogger(__name__)

NOTIFY_SMTP_CONNECTION = "notify-smtp"
NOTICE_TIMEOUT_S = 10.0


class FailureNotices:
    """Sends a workflow's failure notices; `wait` joins the deliveries (at stop)."""

    def __init__(self, db: Database, secret: Callable[[str], str]) -> None:
        self._db = db
        self._secret = secret
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def deliver(self, wf: LoadedWorkflow, run_id: int, error: str) -> None:
        notify = wf.definition.notify
        targets = [t for t in (notify.on_failure if notify else ()) if t != "tray"]
        if not targets:
            return
        t = threading.Thread(
            target=self._deliver,
            args=(wf.name, run_id, error, targets),
            name="sophmate-notify",
            daemon=True,
        )
        with self._lock:
            self._threads = [x for x in self._threads if x.is_alive()] + [t]
        t.start()

    def wait(self, timeout: float) -> None:
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join(timeout)

    def _deliver(self, workflow: str, run_id: int, error: str, targets: Sequence[str]) -> None:
        title = f"SophMate: {workflow} run {run_id} failed"
        for target in targets:
            kind, _, where = target.partition(":")
            try:
                if kind == "webhook":
                    self._post(where, workflow, run_id, error, title)
                elif kind == "email":
                    self._mail(where, title, error, run_id)
            except Exception as exc:
                log.warning("failure notice to %s failed: %s", target, exc)

    def _context(self, key: str, connections: dict) -> ApplyContext:
        return ApplyContext(idempotency_key=key, secret=self._secret, connections=connections)

    def _post(self, url: str, workflow: str, run_id: int, error: str, title: str) -> None:
        payload = {
            "method": "POST",
            "url": url,
            "headers": {"Content-Type": "application/json"},
            "json": {"workflow": workflow, "run": run_id, "error": error, "title": title},
            "timeout_s": NOTICE_TIMEOUT_S,
        }
        HttpRequest().apply(payload, self._context(f"notice-{run_id}", {}))

    def _mail(self, to: str, subject: str, body: str, run_id: int) -> None:
        with self._db.connection_context():
            settings, _ = connection_settings([NOTIFY_SMTP_CONNECTION], "production")
        if NOTIFY_SMTP_CONNECTION not in settings:
            raise RuntimeError(f"no connection named {NOTIFY_SMTP_CONNECTION} for e-mail notices")
        conn = dict(settings[NOTIFY_SMTP_CONNECTION])
        conn.setdefault("host", "127.0.0.1")
        conn.setdefault("timeout_s", NOTICE_TIMEOUT_S)
        payload = {
            "connection": NOTIFY_SMTP_CONNECTION,
            "from": conn.get("from", "sophmate@localhost"),
            "to": [to],
            "cc": [],
            "subject": subject,
            "body": body,
        }
        ctx = self._context(f"notice-{run_id}", {NOTIFY_SMTP_CONNECTION: conn})
        SendEmail().apply(payload, ctx)
