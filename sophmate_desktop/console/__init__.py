"""The one service API that the UI and the CLI call (DESIGN section 1).

Each call checks policy, changes state and appends its audit event in ONE
transaction, then tells listeners (the UI, the engine) what changed.
"""

from __future__ import annotations

import contextlib
import getpass
import threading
from collections.abc import Iterator
from typing import Any

from peewee import Database

from sophmate_desktop.console.audit_trail import AuditTrailOps, attach_audit_key
from sophmate_desktop.console.change_preview import ChangePreviewOps
from sophmate_desktop.console.dashboard import DashboardOps
from sophmate_desktop.console.database_health import DatabaseHealthOps
from sophmate_desktop.console.history_pages import HistoryPageOps
from sophmate_desktop.console.inbox import InboxOps
from sophmate_desktop.console.inbox_pages import InboxPageOps
from sophmate_desktop.console.notice_delivery import NoticeDeliveryOps
from sophmate_desktop.console.notices import NoticeOps
from sophmate_desktop.console.records import RecordOps
from sophmate_desktop.console.review_pages import ReviewPageOps
from sophmate_desktop.console.setup import SetupOps
from sophmate_desktop.console.switches import SwitchOps
from sophmate_desktop.console.undo import UndoOps
from sophmate_desktop.console.workflow_pages import WorkflowPageOps
from sophmate_desktop.console.workflow_switch import WorkflowSwitchOps
from sophmate_desktop.console.workflows import WorkflowOps
from sophmate_desktop.domain.events import Event, Listeners
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.secrets import SecretStore
from sophmate_desktop.store import audit, audit_key
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import AuditHead, Notification, Setting


def default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


class Console(
    WorkflowOps,
    SwitchOps,
    WorkflowSwitchOps,
    InboxOps,
    UndoOps,
    RecordOps,
    InboxPageOps,
    NoticeOps,
    NoticeDeliveryOps,
    DashboardOps,
    ReviewPageOps,
    WorkflowPageOps,
    HistoryPageOps,
    SetupOps,
    ChangePreviewOps,
    DatabaseHealthOps,
    AuditTrailOps,
):
    def __init__(
        self, db: Database, *, actor: str | None = None, secrets: SecretStore | None = None
    ) -> None:
        self.db = db
        self.actor = (actor or default_actor()).strip() or "unknown"
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
        with write_transaction(self.db):
            yield
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

    @property
    def four_eyes_enabled(self) -> bool:
        value = self.setting("four_eyes", "auto")
        if value == "auto":
            return bool(getattr(self.db, "is_team", False))
        return bool(value)


__all__ = ["Console", "default_actor"]
