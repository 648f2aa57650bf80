"""How the engine's monitor waits for its next look.

Busy, it sleeps until its next tick (`tick_s`) or until this process asks it to look.
Idle on SQLite it also wants another process's commit (an approval or a pause from the
CLI) without polling for it: a watchdog observer watches the database's folder while
the engine is idle, and a change to the database file or its `-wal` file is a hint.
A hint only makes the monitor compare SQLite's `PRAGMA data_version` (one pragma, no
table read); a real look happens when that changed. Busy, the watch is dropped: the
engine's own commits would hint all the time.

An idle engine is thus not woken at all between its ticks unless something changed
(the 20-a-second data_version polling this replaces was 0.3% of a core, most of an
idle engine's CPU). Where the folder cannot be watched the monitor falls back to that
polling (`FOLLOW_S`).

On PostgreSQL the database announces each commit that matters (LISTEN/NOTIFY,
store/change_listener.py): a notification is a hint as well, busy or idle, so that a
pause from another desktop reaches this engine's running commands at once.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from peewee import Database
from watchdog.events import (
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch

from sophmate_desktop.store import sql
from sophmate_desktop.store.change_listener import ChangeListener

log = logging.getLogger(__name__)

FOLLOW_S = 0.05  # polling fallback: how often an idle monitor asks data_version
HINT_SPACING_S = 0.05  # at most one look per this long for hints (a busy other writer)
RETRY_MARGIN_S = 0.005  # wake this much after a backoff ends, so that it has ended


class Bell:
    """What ends a wait: `ask()` from this process, or `hint()` (the file changed)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._asked = False
        self._hinted = False
        self._last_hint = 0.0

    def ask(self) -> None:
        with self._cond:
            self._asked = True
            self._cond.notify_all()

    def hint(self) -> None:
        with self._cond:
            self._hinted = True
            self._cond.notify_all()

    def wait(self, timeout: float, *, hints: bool) -> bool:
        """True when asked. False at the timeout, or (with `hints`) at a hint, at most
        one per HINT_SPACING_S; a hint that comes sooner is answered at that spacing."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                now = time.monotonic()
                if self._asked:
                    self._asked = self._hinted = False
                    return True
                if hints and self._hinted and now >= self._last_hint + HINT_SPACING_S:
                    self._hinted = False
                    self._last_hint = now
                    return False
                if now >= deadline:
                    return False
                until = deadline
                if hints and self._hinted:
                    until = min(until, self._last_hint + HINT_SPACING_S)
                self._cond.wait(until - now)


class _FileChanges(FileSystemEventHandler):
    def __init__(self, names: frozenset[str], hint: Callable[[], None]) -> None:
        self._names = names
        self._hint = hint

    def on_any_event(self, event: FileSystemEvent) -> None:
        paths = (event.src_path, getattr(event, "dest_path", "") or "")
        if any(os.path.basename(os.fsdecode(p)) in self._names for p in paths):
            self._hint()


class CommitFollower:
    """A watch on an SQLite file's folder, kept only while `follow()` is being called."""

    def __init__(self, sqlite_path: str | os.PathLike[str], hint: Callable[[], None]) -> None:
        path = Path(sqlite_path)
        self._folder = str(path.parent)
        self._handler = _FileChanges(frozenset({path.name, f"{path.name}-wal"}), hint)
        self._observer: Observer | None = None
        self._watch: ObservedWatch | None = None
        self._broken = False

    def follow(self) -> bool:
        """Watch (if not already); False when the folder cannot be watched."""
        if self._watch is not None:
            return True
        if self._broken:
            return False
        try:
            if self._observer is None:
                self._observer = Observer()
                self._observer.name = "sophmate-commit-follower"
                self._observer.daemon = True
                self._observer.start()
            self._watch = self._observer.schedule(
                self._handler,
                self._folder,
                recursive=False,
                event_filter=[FileModifiedEvent, FileCreatedEvent, FileMovedEvent],
            )
        except Exception as exc:  # no inotify watch left, a folder gone: poll instead
            log.warning("cannot watch %s for commits (%s); polling instead", self._folder, exc)
            self._broken = True
            return False
        return True

    def rest(self) -> None:
        if self._watch is not None and self._observer is not None:
            watch, self._watch = self._watch, None
            try:
                self._observer.unschedule(watch)
            except Exception:
                log.debug("unscheduling the commit watch failed", exc_info=True)

    def close(self) -> None:
        self.rest()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join()
            self._observer = None


class MonitorWait:
    """The monitor's waits; `ask()` is the engine's `wake()`."""

    def __init__(
        self,
        db: Database,
        *,
        busy: Callable[[], bool],
        tick_s: float,
        idle_tick_s: float,
        sqlite_path: str | None,
    ) -> None:
        self._db = db
        self._busy = busy
        self.tick_s = tick_s
        self.idle_tick_s = idle_tick_s
        self.bell = Bell()
        self._follower = CommitFollower(sqlite_path, self.bell.hint) if sqlite_path else None
        self._listener = ChangeListener.for_db(db, lambda _table: self.bell.hint())

    def start(self) -> None:
        if self._listener is not None:
            self._listener.start()

    def ask(self) -> None:
        self.bell.ask()

    def wait(self, retry_due: float | None, last_version: int | None) -> bool:
        """Until the next tick, or just past the next backoff's end if that is sooner;
        True when asked (or, polling, when another connection committed). After a hint
        it returns False: the monitor's own data_version comparison decides."""
        busy = self._busy()
        timeout = self.tick_s if busy else self.idle_tick_s
        if retry_due is not None:
            timeout = min(timeout, max(0.0, retry_due - time.monotonic()) + RETRY_MARGIN_S)
        if last_version is None:  # PostgreSQL: no data_version; its NOTIFY hints
            return self.bell.wait(timeout, hints=self._listener is not None)
        if busy:
            if self._follower is not None:
                self._follower.rest()
            return self.bell.wait(timeout, hints=False)
        if self._follower is not None and self._follower.follow():
            # a commit just before the watch began is not missed: asked right after it
            if sql.data_version(self._db) != last_version:
                return False
            return self.bell.wait(timeout, hints=True)
        return self._poll(last_version, timeout)

    def _poll(self, version: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if self.bell.wait(min(FOLLOW_S, left), hints=False):
                return True
            try:
                if sql.data_version(self._db) != version:
                    return True
            except Exception:  # the monitor's next look reports it
                return self.bell.wait(max(0.0, deadline - time.monotonic()), hints=False)
        return False

    def close(self) -> None:
        if self._follower is not None:
            self._follower.close()
        if self._listener is not None:
            self._listener.close()
