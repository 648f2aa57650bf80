"""LISTEN on PostgreSQL: the database's own triggers (migration 0026) notify
`sophmate_changes` at every commit that changes switches, workflows, runs, writes or
settings, whoever made it; this rings a bell at once instead of waiting for the next
tick. On (re)connect it rings too, because what changed while it was not listening
was never announced. The ticks stay as the fallback for a lost connection.

The listener keeps its own autocommit connection (a notification is only delivered
to a connection outside a transaction), and never shares it with the engine's
threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

CHANNEL = "sophmate_changes"
POLL_S = 0.2  # how often the listening thread looks at its stop flag
RECONNECT_S = (0.5, 1.0, 2.0, 5.0)  # waits between reconnection attempts


class ChangeListener:
    """Calls `on_change(table)` on the listening thread for each notification, and
    `on_change(None)` after each (re)connect."""

    def __init__(self, connect: Callable[[], Any], on_change: Callable[[str | None], None]):
        self._connect = connect
        self._on_change = on_change
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()

    @classmethod
    def for_db(cls, db: Any, on_change: Callable[[str | None], None]) -> ChangeListener | None:
        """A listener for a peewee PostgresqlDatabase; None for any other database."""
        if db.__class__.__name__ != "PostgresqlDatabase":
            return None

        def connect() -> Any:
            import psycopg

            return psycopg.connect(dbname=db.database, autocommit=True, **db.connect_params)

        return cls(connect, on_change)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sophmate-listen", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                conn = self._connect()
            except Exception as exc:
                self.connected.clear()
                wait = RECONNECT_S[min(failures, len(RECONNECT_S) - 1)]
                failures += 1
                log.warning("cannot listen for changes (%s); retrying in %.1f s", exc, wait)
                self._stop.wait(wait)
                continue
            failures = 0
            try:
                self._listen(conn)
            except Exception as exc:
                log.warning("listening for changes stopped (%s); reconnecting", exc)
            finally:
                self.connected.clear()
                try:
                    conn.close()
                except Exception:
                    log.debug("closing the listening connection failed", exc_info=True)

    def _listen(self, conn: Any) -> None:
        conn.execute(f"LISTEN {CHANNEL}")
        self.connected.set()
        self._on_change(None)
        while not self._stop.is_set():
            for notice in conn.notifies(timeout=POLL_S):
                self._on_change(notice.payload)
