"""Sends the notices' outbox (store/notice_outbox.py) with apprise, on a thread of its
own: a notifier that fails or hangs delays other notices at most by apprise's own
timeouts, and never a run. Also raises the escalation notices (store/escalations.py).

Targets: `email:ADDRESS` through the SMTP connection named by the setting
`notify_email_connection`, `webhook:URL` (a JSON POST), or any apprise URL. Secrets
(`${secret:NAME}`) are expanded here, at send time, and masked in stored errors.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from peewee import Database

from sophmate_desktop.domain.addresses import AddressError, one_address
from sophmate_desktop.domain.errors import SophmateError
from sophmate_desktop.domain.templates import substitute_secrets
from sophmate_desktop.secrets import mask_known_values
from sophmate_desktop.store import busy
from sophmate_desktop.store.escalations import raise_escalations
from sophmate_desktop.store.models import Setting
from sophmate_desktop.store.notice_outbox import Delivery, claim_due, next_due_in, record_outcome
from sophmate_desktop.store.sql import queued_transaction
from sophmate_desktop.store.workflows import connection_settings

log = logging.getLogger(__name__)

EMAIL_CONNECTION_SETTING = "notify_email_connection"
POLL_S = 5.0  # the fallback when no engine event wakes it (a notice from another process)
ESCALATION_MIN_S = 2.0  # at most this often after engine events (a flag may have appeared)
ESCALATION_EVERY_S = 60.0  # and this often anyway (a change made by another process)
ERROR_CHARS = 2000
_SEP = "\x1e"
_KEEP = re.compile(r"^(WARNING|ERROR|CRITICAL)\||Exception|Response Details|error=")


class NoticeTargetError(SophmateError):
    """A target that cannot be sent to (bad URL, missing connection or secret)."""


def email_url(address: str, secret: Callable[[str], str]) -> str:
    """The apprise mailto URL for `address`, through the configured SMTP connection."""
    name_row = Setting.get_or_none(Setting.key == EMAIL_CONNECTION_SETTING)
    name = str(name_row.value) if name_row is not None and name_row.value else ""
    if not name:
        raise NoticeTargetError(
            f"no e-mail connection for notices: set {EMAIL_CONNECTION_SETTING} in Settings"
        )
    settings, kinds = connection_settings([name], "production")
    if kinds.get(name) != "smtp":
        raise NoticeTargetError(f"connection {name!r} ({EMAIL_CONNECTION_SETTING}) is not SMTP")
    conn = settings[name]
    host = str(conn.get("host") or "127.0.0.1")
    mode = "ssl" if conn.get("ssl") else "starttls" if conn.get("starttls") else "insecure"
    port = int(conn.get("port") or (465 if mode == "ssl" else 587 if mode == "starttls" else 25))
    auth = ""
    if conn.get("username"):
        password = secret(str(conn["secret_ref"])) if conn.get("secret_ref") else ""
        auth = f"{quote(str(conn['username']), safe='')}:{quote(password, safe='')}@"
    query = {"smtp": host, "to": address, "mode": mode}
    query["from"] = str(conn.get("from") or "sophmate@localhost")
    scheme = "mailtos" if mode != "insecure" else "mailto"
    return f"{scheme}://{auth}{host}:{port}?{urlencode(query)}"


def apprise_url(target: str, secret: Callable[[str], str]) -> str:
    """The URL apprise sends `target` to (secrets expanded)."""
    kind, _, rest = target.strip().partition(":")
    if kind == "email" and "@" in rest and "/" not in rest:
        try:
            return email_url(one_address(rest.strip(), bare=True).addr_spec, secret)
        except AddressError as exc:
            raise NoticeTargetError(f"{target}: the address {exc}") from exc
    if kind == "webhook":
        rest = substitute_secrets(rest.strip(), secret)
        return re.sub(r"^http(s?)://", lambda m: f"json{m.group(1)}://", rest)
    return substitute_secrets(target.strip(), secret)


def _asset() -> Any:
    # No per-call deadline: apprise would then send from a shared pool whose threads
    # outlive the engine; its HTTP (4 s) and SMTP socket timeouts bound a send anyway.
    import apprise

    try:
        return apprise.AppriseAsset(service_timeout=0)
    except TypeError:  # apprise before 2.0 has no service_timeout (and no pool)
        return apprise.AppriseAsset()


def send(
    target: str, title: str, body: str, secret: Callable[[str], str]
) -> tuple[str | None, bool]:
    """Send one notice: (None, _) when sent, else (why not, worth retrying). The reason
    is the notifier's own text (SMTP reply, HTTP status and body), secrets masked."""
    try:
        url = apprise_url(target, secret)
    except SophmateError as exc:
        return mask_known_values(str(exc)), False
    # Imported on the first send: every CLI call imports the engine, and apprise alone
    # cost 60 ms of a `category pause` (python -X importtime).
    import apprise

    sender = apprise.Apprise(asset=_asset())
    if not sender.add(url):
        return f"not an apprise URL nor an email:/webhook: target: {target}", False
    fmt = f"%(levelname)s|%(message)s{_SEP}"
    with apprise.LogCapture(level=logging.DEBUG, fmt=fmt) as out:
        ok = bool(sender.notify(title=title, body=body))
    if ok:
        return None, False
    return mask_known_values(_reason(out.getvalue()))[:ERROR_CHARS], True


def _reason(captured: str) -> str:
    records = [r.strip() for r in captured.split(_SEP) if r.strip()]
    kept = [r.partition("|")[2] for r in records if _KEEP.search(r)]
    return "; ".join(kept) or "the notifier reported a failure without a reason"


class NoticeDispatcher:
    """The outbox's sender thread; `wake` after a notice is recorded."""

    def __init__(self, db: Database, secret: Callable[[str], str]) -> None:
        self._db = db
        self._secret = secret
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_escalation = -ESCALATION_EVERY_S
        self._events_since_escalation = True

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="sophmate-notices", daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self, *_args: object) -> None:
        self._events_since_escalation = True
        self._wake.set()

    def _loop(self) -> None:
        with self._db.connection_context():
            while not self._stop.is_set():
                wait = POLL_S
                try:
                    self._escalations()
                    self.send_due()
                    due = next_due_in()
                    wait = POLL_S if due is None else min(POLL_S, max(due, 0.01))
                    if self._events_since_escalation:  # the check waits out its minimum
                        wait = min(wait, ESCALATION_MIN_S)
                except Exception as exc:
                    if busy.is_busy(exc):  # the next tick tries again; nothing is lost
                        log.warning("notice delivery waits for a busy database: %s", exc)
                    else:
                        log.exception("notice delivery tick failed")
                self._wake.wait(wait)
                self._wake.clear()

    def _escalations(self) -> None:
        since = time.monotonic() - self._last_escalation
        if since < ESCALATION_MIN_S or (
            since < ESCALATION_EVERY_S and not self._events_since_escalation
        ):
            return
        self._last_escalation = time.monotonic()
        self._events_since_escalation = False
        with queued_transaction(self._db):
            raise_escalations()

    def send_due(self) -> int:
        """Send what is due now; returns how many were tried."""
        tried = 0
        while not self._stop.is_set():
            with queued_transaction(self._db):
                batch = claim_due()
            if not batch:
                return tried
            for delivery in batch:
                self._send_one(delivery)
                tried += 1
        return tried

    def _send_one(self, delivery: Delivery) -> None:
        try:
            error, again = send(delivery.target, delivery.title, delivery.body, self._secret)
        except Exception as exc:  # a notifier's bug must not stop the others
            error, again = mask_known_values(f"{type(exc).__name__}: {exc}")[:ERROR_CHARS], True
        with queued_transaction(self._db):
            status = record_outcome(delivery, error is None, error, retry=again)
        if error is not None:
            log.warning(
                "notice %s to %s: %s (%s)", delivery.notification, delivery.target, error, status
            )
