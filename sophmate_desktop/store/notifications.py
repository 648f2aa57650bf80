"""The in-app notification centre's records; repeated notices are grouped. A failure
notice for a workflow with `notify.on_failure` targets also queues its deliveries."""

from __future__ import annotations

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.store.models import Notification
from sophmate_desktop.store.notice_outbox import queue_deliveries


def record_notification(
    level: str,
    kind: str,
    title: str,
    body: str = "",
    *,
    workflow: str | None = None,
    run: int | None = None,
    group_key: str | None = None,
    replace_count: int | None = None,
    category: str | None = None,
) -> int:
    """Insert a notification, or bump the open one with the same group key.

    Call inside the caller's write transaction. `replace_count` sets the count
    (e.g. "12 writes await approval") instead of adding one. `category` names whose
    workflows' targets hear of a category-wide notice (a spent budget).
    """
    note_id = _record(level, kind, title, body, workflow, run, group_key, replace_count)
    queue_deliveries(note_id, kind, title, body, workflow=workflow, category=category, run=run)
    return note_id


def _record(
    level: str,
    kind: str,
    title: str,
    body: str,
    workflow: str | None,
    run: int | None,
    group_key: str | None,
    replace_count: int | None,
) -> int:
    now = utcnow()
    if group_key:
        existing = (
            Notification.select()
            .where(
                Notification.group_key == group_key,
                Notification.acknowledged_at.is_null(),
                Notification.read == False,
            )
            .order_by(Notification.id.desc())
            .first()
        )
        if existing is not None:
            count = replace_count if replace_count is not None else Notification.count + 1
            Notification.update(
                count=count,
                at=now,
                title=title,
                body=body,
                run=run if run is not None else existing.run,
            ).where(Notification.id == existing.id).execute()
            return existing.id
    note = Notification.create(
        at=now,
        level=level,
        kind=kind,
        title=title,
        body=body,
        workflow=workflow,
        run=run,
        group_key=group_key,
        count=replace_count or 1,
    )
    return note.id
