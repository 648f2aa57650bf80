"""Console calls for the notices' deliveries (who was told, sent or failed and why)
and the e-mail connection that `email:` targets go through."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sophmate_desktop.domain.errors import BadInput, NotFound
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.domain.roles import Role
from sophmate_desktop.store.models import Connection, Setting
from sophmate_desktop.store.notice_outbox import Delivery, deliveries_of

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

EMAIL_CONNECTION_SETTING = "notify_email_connection"


class NoticeDeliveryOps:
    def notice_deliveries(self: Console, notice_ids: Iterable[int]) -> dict[int, list[Delivery]]:
        """Each notice's deliveries, oldest first (an empty list: nobody outside was told)."""
        return deliveries_of(int(i) for i in notice_ids)

    def notices_with_deliveries(self: Console, limit: int = 200) -> list[dict]:
        """Notices newest first as dicts, each with its deliveries (the CLI's list)."""
        rows = self.list_notices(limit)
        found = deliveries_of(r.id for r in rows)
        return [
            {
                "id": r.id,
                "at": r.at.isoformat(),
                "level": r.level,
                "kind": r.kind,
                "title": r.title,
                "workflow": r.workflow,
                "run": r.run,
                "count": r.count,
                "acknowledged_by": r.acknowledged_by,
                "deliveries": [d.to_dict() for d in found[r.id]],
            }
            for r in rows
        ]

    def notify_email_connection(self: Console) -> str | None:
        return self.setting(EMAIL_CONNECTION_SETTING) or None

    def set_notify_email_connection(self: Console, name: str | None) -> None:
        """The SMTP connection `email:` notice targets go through (None: none)."""
        self.require_role(Role.ADMINISTRATOR, "changing settings")
        name = (name or "").strip() or None
        with self.transaction():
            if name is not None:
                conn = Connection.get_or_none(Connection.name == name)
                if conn is None:
                    raise NotFound(f"connection: no connection named {name!r}")
                if conn.kind != "smtp":
                    raise BadInput(f"connection: {name!r} is {conn.kind}, not smtp")
            old = self.setting(EMAIL_CONNECTION_SETTING)
            if name is None:
                Setting.delete().where(Setting.key == EMAIL_CONNECTION_SETTING).execute()
            else:
                Setting.insert(key=EMAIL_CONNECTION_SETTING, value=name).on_conflict(
                    conflict_target=[Setting.key], update={Setting.value: name}
                ).execute()
            self.audit(
                AuditAction.SETTING_CHANGED,
                subject=EMAIL_CONNECTION_SETTING,
                details={"from": old, "to": name},
            )
