"""Console calls for the notification centre and the tray: notices, acknowledgements.

Notices are written by `store.notifications.record_notification` (engine and console);
repeats are grouped into one row with a count. A failure notice stays "unacknowledged"
(on the dashboard, the tray turns red) until a person acknowledges it, which is audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import EffectKind, SwitchScope
from sophmate_desktop.domain.errors import BadInput, Conflict, NotFound
from sophmate_desktop.domain.events import Event
from sophmate_desktop.domain.names import AuditAction, EventKind
from sophmate_desktop.store import queries
from sophmate_desktop.store.models import Category, Notification, Switch, Workflow, Write
from sophmate_desktop.store.rows import SwitchRow

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

# Notices that stand for a failed run (a watch problem records a failed run too).
FAILURE_KINDS = ("run_failed", "watch_problem")

EFFECT_LABELS = {
    EffectKind.EMAIL.value: "e-mail",
    EffectKind.HTTP.value: "HTTP",
    EffectKind.COMMAND.value: "commands",
    EffectKind.FILE.value: "file writes",
    EffectKind.CUSTOMER_FACING.value: "customer-facing",
    EffectKind.AI.value: "AI prompts",
}
SORT_FIELDS = {
    "at": Notification.at,
    "level": Notification.level,
    "kind": Notification.kind,
    "title": Notification.title,
    "workflow": Notification.workflow,
    "run": Notification.run,
    "count": Notification.count,
    "read": Notification.read,
    "acknowledged": Notification.acknowledged_at,
}


def switch_label(scope: str, name: str) -> str:
    """What a person calls a switch: "everything", "finance", "customer-facing"."""
    if scope == SwitchScope.GLOBAL.value:
        return "everything"
    if scope == SwitchScope.EFFECT.value:
        return EFFECT_LABELS.get(name, name)
    if scope == "workflow":
        return f"workflow {name}"
    return name


@dataclass(frozen=True)
class NoticeRow:
    id: int
    at: datetime
    level: str  # info | warning | error
    kind: str  # run_failed | auto_paused | writes_pending | watch_problem | ...
    title: str
    body: str
    workflow: str | None
    run: int | None
    count: int
    read: bool
    acknowledged_by: str | None
    acknowledged_at: datetime | None

    @property
    def is_failure(self) -> bool:
        return self.kind in FAILURE_KINDS

    @property
    def needs_acknowledgement(self) -> bool:
        return self.is_failure and self.acknowledged_at is None


@dataclass(frozen=True)
class TrayStatus:
    pending_writes: int  # writes waiting in the inbox (pending or interrupted)
    unacknowledged_failures: int
    paused: list[str]  # labels of paused kill switches ("everything", "finance", "e-mail")
    paused_workflows: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        """failure > paused > pending > ok: what the tray icon shows."""
        if self.unacknowledged_failures:
            return "failure"
        if self.paused or self.paused_workflows:
            return "paused"
        if self.pending_writes:
            return "pending"
        return "ok"


def _notice_row(n: Notification) -> NoticeRow:
    return NoticeRow(
        id=n.id,
        at=n.at,
        level=n.level,
        kind=n.kind,
        title=n.title,
        body=n.body,
        workflow=n.workflow,
        run=n.run,
        count=n.count,
        read=n.read,
        acknowledged_by=n.acknowledged_by,
        acknowledged_at=n.acknowledged_at,
    )


def _unacknowledged_failures_query():
    return Notification.select().where(
        Notification.kind.in_(FAILURE_KINDS), Notification.acknowledged_at.is_null()
    )


class NoticeOps:
    def list_notices(
        self: Console,
        limit: int = 200,
        offset: int = 0,
        *,
        unread_only: bool = False,
        kinds: Iterable[str] | None = None,
        sort: str | None = None,
        descending: bool = True,
    ) -> list[NoticeRow]:
        """Notices newest first (or by `sort`, one of SORT_FIELDS), filtered in SQL."""
        if sort is not None and sort not in SORT_FIELDS:
            raise BadInput(f"sort: unknown notice field {sort!r}")
        column = SORT_FIELDS[sort or "at"]
        query = Notification.select()
        if unread_only:
            query = query.where(Notification.read == False)
        if kinds is not None:
            query = query.where(Notification.kind.in_(list(kinds)))
        order = column.desc() if descending else column.asc()
        tie = Notification.id.desc() if descending else Notification.id.asc()
        query = query.order_by(order, tie).limit(limit).offset(offset)
        return [_notice_row(n) for n in query]

    def get_notice(self: Console, notice_id: int) -> NoticeRow:
        note = Notification.get_or_none(Notification.id == notice_id)
        if note is None:
            raise NotFound(f"no notice with id {notice_id}")
        return _notice_row(note)

    def notices_since(self: Console, since: datetime, limit: int = 200) -> list[NoticeRow]:
        """Notices created or bumped (a grouped repeat) at or after `since`, oldest first."""
        query = (
            Notification.select()
            .where(Notification.at >= since)
            .order_by(Notification.at, Notification.id)
            .limit(limit)
        )
        return [_notice_row(n) for n in query]

    def unacknowledged_failures(self: Console, limit: int = 50) -> list[NoticeRow]:
        """Failed-run notices nobody acknowledged, newest first."""
        query = _unacknowledged_failures_query().order_by(
            Notification.at.desc(), Notification.id.desc()
        )
        return [_notice_row(n) for n in query.limit(limit)]

    def acknowledge_notice(self: Console, notice_id: int, comment: str | None = None) -> NoticeRow:
        """A person has seen this notice and takes it from here (audited)."""
        comment = (comment or "").strip() or None
        with self.transaction():
            note = Notification.get_or_none(Notification.id == notice_id)
            if note is None:
                raise NotFound(f"no notice with id {notice_id}")
            now = utcnow()
            moved = (
                Notification.update(acknowledged_by=self.actor, acknowledged_at=now, read=True)
                .where(Notification.id == notice_id, Notification.acknowledged_at.is_null())
                .execute()
            )
            if not moved:
                again = Notification.get_by_id(notice_id)
                raise Conflict(
                    f"notice {notice_id} was already acknowledged by {again.acknowledged_by} "
                    f"at {again.acknowledged_at:%Y-%m-%d %H:%M} UTC"
                )
            wf = Workflow.get_or_none(Workflow.name == note.workflow) if note.workflow else None
            self.audit(
                AuditAction.NOTICE_ACKNOWLEDGED,
                subject=f"notice {notice_id}",
                category=Category.get_by_id(wf.category_id).name if wf is not None else None,
                workflow=note.workflow,
                run=note.run,
                reason=comment,
                details={"kind": note.kind, "title": note.title, "count": note.count},
            )
            self._pending_events.append(Event(EventKind.NOTICES_CHANGED, {"ids": [notice_id]}))
        return self.get_notice(notice_id)

    def mark_notices_read(self: Console, ids: Sequence[int] | None = None) -> int:
        """Mark these notices (all when `ids` is None) read; returns how many changed."""
        with self.transaction():
            query = Notification.update(read=True).where(Notification.read == False)
            if ids is not None:
                wanted = [int(i) for i in ids]
                if not wanted:
                    return 0
                query = query.where(Notification.id.in_(wanted))
            changed = query.execute()
            if changed:
                self._pending_events.append(Event(EventKind.NOTICES_CHANGED, {"ids": ids}))
        return changed

    def unread_notice_count(self: Console) -> int:
        return Notification.select().where(Notification.read == False).count()

    def paused_workflow_rows(self: Console) -> list[SwitchRow]:
        """Workflows paused on their own (by a person or by a pause rule), as switch rows
        with scope "workflow", so they can be shown beside the kill switches."""
        query = (
            Workflow.select(
                Workflow.name,
                Workflow.paused_by,
                Workflow.paused_reason,
                Workflow.paused_at,
                Workflow.description,
            )
            .where(Workflow.paused == True)
            .order_by(Workflow.name)
        )
        names = dict(Workflow.select(Workflow.id, Workflow.name).tuples())
        held = {names.get(wf_id): n for wf_id, n in queries.held_by_workflow().items()}
        return [
            SwitchRow(
                "workflow",
                w.name,
                True,
                w.paused_by,
                w.paused_reason,
                w.paused_at,
                w.description,
                held_runs=held.get(w.name, 0),
            )
            for w in query
        ]

    def tray_status(self: Console) -> TrayStatus:
        """Everything the tray icon and menu show, in a few small queries."""
        pending = (
            Write.select().where(Write.status.in_(queries.AWAITING_PERSON_STATUSES)).count()
        )
        failures = _unacknowledged_failures_query().count()
        switches = list(
            Switch.select(Switch.scope, Switch.name).where(Switch.paused == True).tuples()
        )
        categories = [
            c.name
            for c in Category.select(Category.name)
            .where(Category.paused == True)
            .order_by(Category.name)
        ]
        paused = [switch_label(s, n) for s, n in switches if s == SwitchScope.GLOBAL.value]
        paused += categories
        paused += sorted(switch_label(s, n) for s, n in switches if s == SwitchScope.EFFECT.value)
        workflows = [
            w.name
            for w in Workflow.select(Workflow.name)
            .where(Workflow.paused == True)
            .order_by(Workflow.name)
        ]
        return TrayStatus(pending, failures, paused, workflows)
