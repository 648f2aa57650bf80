"""Outcomes always land: the outcomes of a batch are journaled (store/outcome_journal.py)
before the database is asked, kept in memory, and recorded again with backoff until the
database takes them. While it refuses, the engine's `DatabaseHealth` is down: appliers
claim nothing new, a problem is published (the window, the log, the engine CLI's
stderr), and it is up again when a commit (the retried recording or a probe) succeeds."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import peewee

from sophmate_desktop.domain.names import EventKind
from sophmate_desktop.store import outcome_journal
from sophmate_desktop.store.integrity import driver_text
from sophmate_desktop.store.outcome_journal import Outcome
from sophmate_desktop.store.transitions.applying import finish_applies, probe_commit

log = logging.getLogger(__name__)

FIRST_BACKOFF_S = 0.05
MAX_BACKOFF_S = 2.0
DB_FAULTS = (peewee.OperationalError, peewee.InterfaceError, sqlite3.OperationalError)


def describe(exc: BaseException) -> str:
    text = driver_text(exc)  # "database or disk is full", not peewee's failed rollback
    return f"the engine cannot write the database ({text}); applying stopped until it can"


class DatabaseHealth:
    """Whether this engine can commit. Thread-safe; events on each change only."""

    def __init__(self, db: peewee.Database, publish: Callable[..., None]) -> None:
        self._db = db
        self._publish = publish
        self._ok = threading.Event()
        self._ok.set()
        self._lock = threading.Lock()
        self._probe = threading.Lock()
        self.problem: str | None = None
        self.since: float | None = None

    @property
    def ok(self) -> bool:
        return self._ok.is_set()

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            first = self._ok.is_set()
            self._ok.clear()
            self.problem = describe(exc)
            if first:
                self.since = time.monotonic()
        if first:
            log.error("%s", self.problem)
            self._publish(EventKind.DATABASE_UNWRITABLE, problem=self.problem)

    def recovered(self) -> None:
        with self._lock:
            was_down = not self._ok.is_set()
            self._ok.set()
            problem, self.problem, self.since = self.problem, None, None
        if was_down:
            log.warning("the engine can write the database again; applying resumes (%s)", problem)
            self._publish(EventKind.DATABASE_WRITABLE)

    def wait_writable(self, stopping: threading.Event) -> bool:
        """Block while the database refuses commits, probing with backoff; False when
        the engine stops first."""
        delay = FIRST_BACKOFF_S
        while not self._ok.is_set():
            if stopping.wait(delay):
                return False
            delay = min(delay * 2, MAX_BACKOFF_S)
            if not self._probe.acquire(blocking=False):
                continue  # another thread probes
            try:
                probe_commit(self._db)
            except DB_FAULTS as exc:
                self.failed(exc)
            else:
                self.recovered()
            finally:
                self._probe.release()
        return True


class OutcomeRecorder:
    """Records batches of outcomes, journaled first, retried until recorded."""

    def __init__(
        self,
        db: peewee.Database,
        *,
        health: DatabaseHealth,
        publish: Callable[..., None],
        stopping: threading.Event,
        claimer: str,
        folder: Path | None = None,
    ) -> None:
        self._db = db
        self._health = health
        self._publish = publish
        self._stopping = stopping
        self._claimer = claimer
        self.folder = folder or outcome_journal.journal_dir_of(db)
        self._lock = threading.Lock()
        self._pending: dict[int, Outcome] = {}

    def pending(self) -> dict[int, str]:
        """Writes whose outcome this engine knows and waits to record: id -> what it shows."""
        with self._lock:
            return {i: o.said() for i, o in self._pending.items()}

    def record(self, outcomes: Sequence[Outcome]) -> dict[int, str] | None:
        """Record `outcomes` (one transaction); returns {write id: run status}, or None
        when the engine stopped before the database took them (they stay journaled:
        the next engine records them)."""
        if not outcomes:
            return {}
        with self._lock:
            self._pending.update({o.write_id: o for o in outcomes})
        path = self._journal(outcomes)
        try:
            statuses = self._record(outcomes)
        finally:
            with self._lock:
                for o in outcomes:
                    self._pending.pop(o.write_id, None)
        if statuses is not None and path is not None:
            outcome_journal.remove_entry(path)
        return statuses

    def _journal(self, outcomes: Sequence[Outcome]) -> Path | None:
        try:
            return outcome_journal.write_entry(self.folder, self._claimer, list(outcomes))
        except OSError as exc:  # a full disk: the outcomes are kept in memory only
            log.error("could not journal %d outcomes: %s", len(outcomes), exc)
            return None

    def _record(self, outcomes: Sequence[Outcome]) -> dict[int, str] | None:
        delay = FIRST_BACKOFF_S
        told = False
        while True:
            try:
                statuses = finish_applies(self._db, outcomes)
            except DB_FAULTS as exc:
                self._health.failed(exc)
            except Exception:
                log.exception("recording %d outcomes failed; trying again", len(outcomes))
            else:
                self._health.recovered()
                return statuses
            if not told:
                told = True
                ids = [o.write_id for o in outcomes]
                self._publish(EventKind.WRITES_RECORDING, writes=ids)
            if self._stopping.wait(delay):
                return None
            delay = min(delay * 2, MAX_BACKOFF_S)
