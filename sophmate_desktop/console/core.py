"""The console's core: its database handle and actor, transactions whose events are
published after commit, audit events, settings. `Console` (console/composed.py) adds
every group of operations; `console_with(...)` makes a console of only some groups, for
a command that needs no more (the command line's kill switches), so that it imports
only those.
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import threading
from collections.abc import Callable, Iterator
from typing import Any

from peewee import Database

from sophmate_desktop.console.audit_trail import AuditTrailOps, attach_audit_key
from sophmate_desktop.domain.errors import BadInput, PolicyRefused
from sophmate_desktop.domain.events import Event, Listeners
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.domain.roles import Role, allows, role_refusal, switch_needs
from sophmate_desktop.secrets import SecretStore
from sophmate_desktop.store import audit, audit_key, team
from sophmate_desktop.store.change_listener import ChangeListener
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import AuditHead, Notification, Setting


def default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


ACTOR_ON_POSTGRES = (
    "--actor: refused on PostgreSQL, where who acts is the database login ({login}); "
    "to act as another person, connect with their own login (--db postgresql://LOGIN@...)"
)


def actor_of(db: Database, actor: str | None, login: str | None) -> str:
    """Who acts: on PostgreSQL the login (`session_user`); a name passed in is refused
    there once the team is set up (before, it is one shared login's label). On SQLite
    the name passed (the command line made it "as NAME by OS-USER"), else the OS user."""
    if login is None:
        return (actor or default_actor()).strip() or "unknown"
    if actor and actor.strip() != login and team.has_team(db):
        raise BadInput(ACTOR_ON_POSTGRES.format(login=login))
    return (actor or login).strip() or login


class ConsoleCore:
    """What every console has; its operations come in groups (the `...Ops` classes)."""

    def __init__(
        self, db: Database, *, actor: str | None = None, secrets: SecretStore | None = None
    ) -> None:
        self.db = db
        self.login = team.session_login(db)  # None on SQLite
        self.actor = actor_of(db, actor, self.login)
        self.secrets = secrets or SecretStore()
        self.events = Listeners()
        attach_audit_key(db, self.secrets)
        # Per thread: the UI's background tasks run transactions next to the main thread's.
        self._local = threading.local()

    @property
    def _pending_events(self) -> list[Event]:
        """Events of this thread's open transaction, published after it commits."""
        if not hasattr(self._local, "events"):
            self._local.events = []
        return self._local.events

    @_pending_events.setter
    def _pending_events(self, events: list[Event]) -> None:
        self._local.events = events

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction; events are published only after it commits."""
        outer = not self.db.in_transaction()
        if outer:
            self._pending_events = []
            audit_key.prime(self.db)  # a keyring call, never inside the transaction
        try:
            with write_transaction(self.db):
                yield
        except Exception as exc:
            refused = team.database_refusal(exc)  # the database's guard said no
            if refused is None:
                raise
            raise refused from exc
        if outer:
            self._checkpoint_after_commit()
            events, self._pending_events = self._pending_events, []
            for event in events:
                self.events.publish(event)

    @contextlib.contextmanager
    def thread_connection(self) -> Iterator[None]:
        """A background thread's own database connection, closed when its work ends."""
        with self.db.connection_context():
            yield

    def event(
        self,
        action: AuditAction,
        *,
        subject: str = "",
        category: str | None = None,
        workflow: str | None = None,
        run: int | None = None,
        details: dict[str, Any] | None = None,
        reason: str | None = None,
        actor: str | None = None,
    ) -> audit.NewEvent:
        """The audit event of a state change that the transition gate appends, with
        its UI event queued (published only if the transaction commits)."""
        self._pending_events.append(
            Event(
                action, {"subject": subject, "category": category, "workflow": workflow, "run": run}
            )
        )
        return audit.NewEvent(
            actor=actor or self.actor,
            action=action,
            subject=subject,
            category=category,
            workflow=workflow,
            run=run,
            details=details,
            reason=reason,
        )

    def audit(
        self,
        action: AuditAction,
        **fields: Any,
    ) -> int:
        """Append an audit event in the current transaction and queue its UI event."""
        return audit.append(self.db, self.event(action, **fields))

    def setting(self, key: str, default: Any = None) -> Any:
        row = Setting.get_or_none(Setting.key == key)
        return default if row is None else row.value

    def change_marker(self) -> tuple[int, int]:
        """Changes whenever any process commits a state change (every one is audited)
        or records a notice: the UI polls it to notice writes by other processes."""
        head = AuditHead.get_or_none(AuditHead.id == 1)
        last_notice = Notification.select(Notification.id).order_by(Notification.id.desc()).first()
        return (head.last_id if head else 0, last_notice.id if last_notice else 0)

    def change_listener(self, on_change: Callable[[str | None], None]) -> ChangeListener | None:
        """On PostgreSQL, a listener that calls `on_change` (on its own thread) at every
        commit that changes state, whoever made it (store/change_listener.py); None on
        SQLite, where the marker's tick is what there is."""
        return ChangeListener.for_db(self.db, on_change)

    def role(self) -> Role | None:
        """This person's role (administrator where no team is set up; None outside it)."""
        return Role.ADMINISTRATOR if self.login is None else team.role_of(self.db, self.login)

    def role_refusal(self, needed: Role, what: str) -> str | None:
        """Why this person may not do `what`, which needs `needed`; None: they may."""
        role = self.role()
        return None if allows(role, needed) else role_refusal(self.actor, role, needed, what)

    def require_role(self, needed: Role, what: str) -> None:
        refusal = self.role_refusal(needed, what)
        if refusal:
            raise PolicyRefused(refusal)

    def require_switch(self, what: str, *, pausing: bool, owner: str | None = None) -> None:
        """Refuse a pause or resume this person's role does not allow; `owner`: of the
        workflow switched (None: a category, an effect or everything)."""
        role = self.role()
        owns = bool(owner) and owner.strip().casefold() == self.actor.casefold()
        needed = switch_needs(role, pausing=pausing, workflow=owner is not None, owns=owns)
        if needed is not None:
            text = role_refusal(self.actor, role, needed, what)
            if owner is not None:
                text += f" (or to own it: its owner is {owner or 'nobody'})"
            raise PolicyRefused(text)

    @property
    def four_eyes_enabled(self) -> bool:
        value = self.setting("four_eyes", "auto")
        if value == "auto":
            return bool(getattr(self.db, "is_team", False))
        return bool(value)


@functools.cache
def console_with(*ops: type) -> type[ConsoleCore]:
    """A console class with only the operation groups `ops` (and the audit trail's,
    which every transaction uses), in the order `Console` has them."""
    return type("Console", (ConsoleCore, *ops, AuditTrailOps), {})
