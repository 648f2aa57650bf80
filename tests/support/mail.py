"""A real SMTP server on 127.0.0.1 that keeps what it receives, and the supplier-invoice
files the journeys feed to the workflows that send mail."""

from __future__ import annotations

import socket
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler


class _Keep(MessageHandler):
    def __init__(self, inbox: list[Message]) -> None:
        super().__init__()
        self.inbox = inbox

    def handle_message(self, message: Message) -> None:
        self.inbox.append(message)


class SmtpServer:
    """An SMTP server on 127.0.0.1 that keeps every message it receives. `settings()`
    are a connection's settings for it: the sender and any `extra` given here."""

    def __init__(self, sender: str = "invoices@example.test", **extra: object) -> None:
        self.received: list[Message] = []
        self.sender = sender
        self.extra = extra
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._controller = Controller(_Keep(self.received), hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def settings(self) -> dict:
        return {"host": "127.0.0.1", "port": self.port, "from": self.sender, **self.extra}

    def recipients(self) -> list[str]:
        return sorted(str(m["To"]) for m in self.received)


def invoice_csv(rows: int, first: int = 1) -> str:
    """A supplier-invoice export: one row per invoice, the supplier's address in `email`."""
    lines = ["number,supplier,email,amount"]
    for n in range(first, first + rows):
        lines.append(f"INV-{n:04},Supplier {n},supplier{n}@example.test,{100 + n}.50")
    return "\n".join(lines) + "\n"
