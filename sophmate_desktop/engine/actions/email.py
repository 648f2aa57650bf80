"""send_email: one message through smtplib, previewed exactly as it will be sent.

Connection settings: host, port, ssl (implicit TLS), starttls, username, from,
timeout_s, and secret_ref (the keyring name of the password). The Message-ID is
derived from the idempotency key, so a message sent twice by a retry can be recognised
by the receiving side. Sending cannot be checked afterwards: idempotent is False.

Each rendered `to`/`cc` value (and the connection's `from`) must be exactly one
address (`domain.addresses.one_address`): a value such as "a@x, evil@y" fails the plan
naming the step, the field, the record and the value. Several recipients are a list
in the workflow file, one address per element.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from sophmate_desktop.domain.addresses import AddressError, one_address
from sophmate_desktop.domain.enums import EffectKind
from sophmate_desktop.domain.templates import mask_values
from sophmate_desktop.domain.workflow import StepSpec
from sophmate_desktop.engine.actions._common import (
    SecretLookup,
    connection_settings,
    field_error,
    render_text,
    settings_for,
)
from sophmate_desktop.engine.actions.base import (
    ActionError,
    ApplyContext,
    ApplyResult,
    PlanContext,
    PlannedWrite,
)


def message_id(idempotency_key: str) -> str:
    return f"<{idempotency_key}@sophmate-desktop>"


def _address(text: str, field: str, what: str = "") -> Address:
    try:
        return one_address(text)
    except AddressError as exc:
        shown = text if len(text) <= 200 else text[:197] + "..."
        raise field_error(field, f"{what}{shown!r} {exc}")


def _addresses(value: Any, variables: dict[str, Any], field: str) -> list[str]:
    """Rendered recipients, exactly one address per template: a list of recipients is
    a list in the workflow file, never one value that happens to hold commas."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    found: list[str] = []
    for i, item in enumerate(items):
        f = f"{field}[{i}]" if isinstance(value, list) else field
        found.append(str(_address(render_text(item, variables, f), f)))
    return found


def _one_line(text: str, field: str) -> str:
    if "\r" in text or "\n" in text:
        raise field_error(field, "may not contain a line break")
    return text


def _via(settings: Mapping[str, Any], conn: str | None) -> str:
    host = settings.get("host") or "?"
    port = settings.get("port")
    where = f"{host}:{port}" if port else str(host)
    return f"staging: sent through the staging server {where} of connection {conn!r}"


class SendEmail:
    name = "send_email"
    effect = EffectKind.EMAIL
    idempotent = False

    def plan(self, step: StepSpec, ctx: PlanContext) -> list[PlannedWrite]:
        conn, settings, unsent = connection_settings(step, ctx, required=True)
        variables = ctx.template_context()
        params = step.params
        for key in ("to", "subject", "body"):
            if params.get(key) is None:
                raise field_error(key, "required field is missing")
        to = _addresses(params["to"], variables, "to")
        if not to:
            raise field_error("to", "lists no recipient")
        cc = _addresses(params.get("cc"), variables, "cc")
        subject = _one_line(render_text(params["subject"], variables, "subject"), "subject")
        body = render_text(params["body"], variables, "body")
        sender = str(settings.get("from") or "")
        if settings and not sender:
            raise field_error("connection", f"connection {conn!r} has no `from` address")
        if sender:
            sender = str(_address(sender, "connection", f"the `from` of {conn!r}: "))
        lines = [
            f"From: {sender or f'(the {ctx.mode} sender of connection {conn!r})'}",
            f"To: {', '.join(to)}",
        ]
        if cc:
            lines.append(f"Cc: {', '.join(cc)}")
        lines.append(f"Subject: {subject}")
        preview = "\n".join(lines) + "\n\n" + body
        if ctx.mode == "staging" and settings:  # the approver must see it is not the real one
            preview = f"({_via(settings, conn)})\n" + preview
        if unsent:
            preview = f"(previewed, not sent: {unsent})\n" + preview
        return [
            PlannedWrite(
                kind=self.name,
                effect=self.effect,
                target=", ".join(to),
                summary=f"e-mail to {', '.join(to)}: {subject}",
                preview=preview,
                payload={
                    "connection": conn,
                    "from": sender,
                    "to": to,
                    "cc": cc,
                    "subject": subject,
                    "body": body,
                },
                customer_facing=step.customer_facing,
                sendable=unsent is None,
            )
        ]

    def apply(self, payload: dict[str, Any], ctx: ApplyContext) -> ApplyResult:
        ctx.check()
        settings = settings_for(payload["connection"], ctx)
        secrets = SecretLookup(ctx)
        server = _server(settings, payload["connection"])
        sender = _applied_address(str(settings.get("from") or payload["from"]), "from")
        to = [_applied_address(secrets.substitute(a), "to") for a in payload["to"]]
        cc = [_applied_address(secrets.substitute(a), "cc") for a in payload["cc"]]
        msg = _message(payload, ctx, secrets, sender, to, cc)
        recipients = [a.addr_spec for a in to + cc]
        username = settings.get("username")
        password = None
        if username and settings.get("secret_ref"):
            password = secrets(str(settings["secret_ref"]))

        def masked(text: str) -> str:
            return mask_values(text, secrets.values)

        ctx.check()
        login = (str(username), password) if username and password is not None else None
        refused = _send(server, login, msg, sender.addr_spec, recipients, ctx, masked)
        sent = len(recipients) - len(refused)
        output = f"sent to {sent} recipient(s), Message-ID {msg['Message-ID']}"
        if refused:
            output += f"; refused: {_refusals(refused)}"
        return ApplyResult(bytes_written=len(msg.as_bytes()), output=masked(output))


@dataclass(frozen=True)
class _Server:
    host: str
    port: int
    use_ssl: bool
    starttls: bool
    timeout: float


def _server(settings: Mapping[str, Any], connection: str) -> _Server:
    host = settings.get("host")
    if not host:
        raise ActionError(f"connection {connection!r} has no host")
    use_ssl = bool(settings.get("ssl", False))
    starttls = bool(settings.get("starttls", False))
    port = int(settings.get("port") or (465 if use_ssl else 587 if starttls else 25))
    timeout = float(settings.get("timeout_s") or 30)
    return _Server(host, port, use_ssl, starttls, timeout)


def _applied_address(text: str, field: str) -> Address:
    """Checked again when sending: the payload is data read back from the database."""
    try:
        return one_address(text)
    except AddressError as exc:
        raise ActionError(f"{field}: {text!r} {exc}")


def _message(
    payload: dict[str, Any],
    ctx: ApplyContext,
    secrets: SecretLookup,
    sender: Address,
    to: list[Address],
    cc: list[Address],
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = tuple(to)
    if cc:
        msg["Cc"] = tuple(cc)
    msg["Subject"] = secrets.substitute(payload["subject"])
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = message_id(ctx.idempotency_key)
    msg.set_content(secrets.substitute(payload["body"]))
    return msg


def _send(
    server: _Server,
    login: tuple[str, str] | None,
    msg: EmailMessage,
    sender: str,
    recipients: list[str],
    ctx: ApplyContext,
    masked: Callable[[str], str],
) -> dict[str, Any]:
    """Send through the server; the recipients it refused. Every failure is an ActionError."""
    host, port = server.host, server.port
    tls = ssl.create_default_context()
    try:
        if server.use_ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=server.timeout, context=tls)
        else:
            client = smtplib.SMTP(host, port, timeout=server.timeout)
        with client:
            if server.starttls:
                client.starttls(context=tls)
            if login is not None:
                client.login(*login)
            ctx.check()
            return client.send_message(msg, from_addr=sender, to_addrs=recipients)
    except smtplib.SMTPRecipientsRefused as exc:
        raise ActionError(masked(f"every recipient was refused: {_refusals(exc.recipients)}"))
    except smtplib.SMTPResponseException as exc:
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        raise ActionError(masked(f"the mail server {host}:{port} said {exc.smtp_code} {text}"))
    except (smtplib.SMTPException, OSError) as exc:
        raise ActionError(masked(f"could not send through {host}:{port}: {exc}"))


def _refusals(refused: dict[str, Any]) -> str:
    return ", ".join(f"{addr} ({code})" for addr, (code, _msg) in refused.items())
