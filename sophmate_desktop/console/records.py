"""Runs, audit, secrets, connections and settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sophmate_desktop.domain import policy
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.errors import BadInput, SecretsUnavailable
from sophmate_desktop.domain.events import Event
from sophmate_desktop.domain.llm import changes_provider, llm_settings
from sophmate_desktop.domain.names import POLICY_ACTOR, AuditAction, EventKind
from sophmate_desktop.domain.roles import Role
from sophmate_desktop.store import queries
from sophmate_desktop.store.models import Connection, SecretRef, Setting, Workflow
from sophmate_desktop.store.notifications import record_notification
from sophmate_desktop.store.rows import AuditRow, ConnectionRow, RunRow, SecretRow, WriteRow
from sophmate_desktop.store.transitions.outcomes import auto_pause_workflow

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

CONNECTION_KINDS = ("smtp", "http", "command", "llm")
SECRET_LIKE_KEYS = ("password", "passwd", "secret", "token", "api_key", "apikey")


def _check_no_inline_secrets(settings: Mapping[str, Any], field: str) -> None:
    for key, value in settings.items():
        if any(word in key.lower() for word in SECRET_LIKE_KEYS) and value not in (None, ""):
            raise BadInput(
                f"{field}.{key}: secrets are kept in the keyring, not in settings; "
                "store it with `secret set NAME` and give the connection a secret_ref"
            )


class RecordOps:
    # Runs ------------------------------------------------------------------

    def list_runs(
        self: Console,
        workflow: str | None = None,
        limit: int = 200,
        offset: int = 0,
        status: list[str] | None = None,
    ) -> list[RunRow]:
        if workflow:
            queries.get_workflow(workflow)
        return queries.list_runs(workflow=workflow, limit=limit, offset=offset, status=status)

    def get_run(self: Console, run_id: int) -> RunRow:
        return queries.get_run_row(run_id)

    def run_writes(self: Console, run_id: int) -> list[WriteRow]:
        return queries.list_writes(statuses=None, run_id=run_id, limit=100000)

    def run_timeline(self: Console, run_id: int) -> list[AuditRow]:
        return queries.list_audit(run=run_id, ascending=True, limit=10000)

    # Audit -----------------------------------------------------------------

    def list_audit(self: Console, limit: int = 200, offset: int = 0, **filters) -> list[AuditRow]:
        return queries.list_audit(limit=limit, offset=offset, **filters)

    # Secrets ---------------------------------------------------------------

    def secrets_status(self: Console):
        return self.secrets.status()

    def set_secret(self: Console, name: str, value: str) -> SecretRow:
        status = self.secrets.status()
        if not status.usable:
            raise SecretsUnavailable(status.message)
        self.secrets.set(name, value)
        now = utcnow()
        with self.transaction():
            existing = SecretRef.get_or_none(SecretRef.name == name)
            if existing is None:
                SecretRef.create(name=name, created_at=now, updated_at=now, updated_by=self.actor)
            else:
                SecretRef.update(updated_at=now, updated_by=self.actor).where(
                    SecretRef.id == existing.id
                ).execute()
            self.audit(
                AuditAction.SECRET_REPLACED if existing else AuditAction.SECRET_SET,
                subject=name,
                details={"backend": status.backend, "insecure_backend": status.insecure},
            )
        return SecretRow(name, now, self.actor)

    def delete_secret(self: Console, name: str) -> None:
        ref = SecretRef.get_or_none(SecretRef.name == name)
        if ref is None and not self.secrets.has(name):
            raise BadInput(f"secret {name!r} is not set")
        if self.secrets.has(name):
            self.secrets.delete(name)
        with self.transaction():
            SecretRef.delete().where(SecretRef.name == name).execute()
            self.audit(AuditAction.SECRET_DELETED, subject=name)

    def list_secrets(self: Console) -> list[SecretRow]:
        return queries.list_secret_names()

    # Connections -----------------------------------------------------------

    def list_connections(self: Console) -> list[ConnectionRow]:
        return queries.list_connections()

    def save_connection(
        self: Console,
        name: str,
        kind: str,
        settings: Mapping[str, Any],
        staging_settings: Mapping[str, Any] | None = None,
        secret_ref: str | None = None,
    ) -> ConnectionRow:
        """Create or change a provider; a change pauses the workflows that use it."""
        self.require_role(Role.ADMINISTRATOR, "changing connections")
        if kind not in CONNECTION_KINDS:
            raise BadInput(
                f"kind: unknown connection kind {kind!r} (use {', '.join(CONNECTION_KINDS)})"
            )
        if not isinstance(settings, Mapping):
            raise BadInput("settings: expected a mapping")
        _check_no_inline_secrets(settings, "settings")
        if staging_settings is not None:
            _check_no_inline_secrets(staging_settings, "staging_settings")
        if kind == "llm":  # checked now: a bad price or URL fails here, not in a run
            llm_settings(settings, "settings")
            if staging_settings:
                llm_settings(staging_settings, "staging_settings")
        now = utcnow()
        new = {
            "kind": kind,
            "settings": dict(settings),
            "staging_settings": dict(staging_settings) if staging_settings else None,
            "secret_ref": secret_ref,
        }
        with self.transaction():
            conn = Connection.get_or_none(Connection.name == name)
            if conn is None:
                conn = Connection.create(name=name, changed_at=now, changed_by=self.actor, **new)
                self.audit(AuditAction.CONNECTION_CREATED, subject=name, details={"kind": kind})
            else:
                old = {
                    "kind": conn.kind,
                    "settings": conn.settings,
                    "staging_settings": conn.staging_settings,
                    "secret_ref": conn.secret_ref,
                }
                if old == new:
                    return queries.connection_row(conn)
                changed = sorted(k for k in new if new[k] != old[k])
                Connection.update(changed_at=now, changed_by=self.actor, **new).where(
                    Connection.id == conn.id
                ).execute()
                provider = changes_provider(old["kind"], kind, old, new)
                self.audit(
                    AuditAction.CONNECTION_CHANGED,
                    subject=name,
                    details={"changed": changed, "provider_change": provider},
                )
                if provider:  # an llm's new price or timeout changes no provider
                    self._provider_changed(name, now)
        return queries.connection_row(Connection.get(Connection.name == name))

    def _provider_changed(self: Console, connection: str, now) -> None:
        from sophmate_desktop.console.workflows import workflows_using

        for wf, defn in workflows_using(connection):
            Workflow.update(last_provider_change_at=now, gate_tightened_at=now).where(
                Workflow.id == wf.id
            ).execute()
            self.audit(
                AuditAction.REVIEW_DUE,
                subject=wf.name,
                category=defn.category,
                workflow=wf.name,
                actor=POLICY_ACTOR,
                details={"kind": "provider_change", "connection": connection},
            )
            if policy.pauses_on_provider_change(defn.pause) and not wf.paused:
                event_id, note_id = auto_pause_workflow(
                    self.db,
                    wf.id,
                    wf.name,
                    defn.category,
                    defn.owner,
                    reason=f"connection {connection} changed",
                    cause="provider_change",
                    details={"connection": connection},
                )
                self._pending_events.append(
                    Event(
                        EventKind.WORKFLOW_AUTO_PAUSED, {"workflow": wf.name, "audit_id": event_id}
                    )
                )
                self._pending_events.append(Event(EventKind.NOTIFICATION, {"id": note_id}))

    # Notifications ---------------------------------------------------------

    def notify(
        self: Console,
        level: str,
        kind: str,
        title: str,
        body: str = "",
        *,
        workflow: str | None = None,
        run: int | None = None,
        group_key: str | None = None,
    ) -> int:
        """Record a notification in the current transaction (grouping repeats)."""
        note_id = record_notification(
            level, kind, title, body, workflow=workflow, run=run, group_key=group_key
        )
        self._pending_events.append(Event(EventKind.NOTIFICATION, {"id": note_id}))
        return note_id

    # Settings --------------------------------------------------------------

    def plan_timeout_s(self: Console) -> float:
        """How long a run may plan before it fails (a workflow's plan_timeout_s wins)."""
        return float(self.setting("plan_timeout_s", 30.0))

    def set_plan_timeout(self: Console, seconds: float) -> None:
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise BadInput("plan_timeout_s: give a number of seconds")
        if not 0 < seconds <= 3600:
            raise BadInput("plan_timeout_s: give more than 0 and at most 3600 seconds")
        self.require_role(Role.ADMINISTRATOR, "changing settings")
        with self.transaction():
            old = self.setting("plan_timeout_s")
            Setting.insert(key="plan_timeout_s", value=seconds).on_conflict(
                conflict_target=[Setting.key], update={Setting.value: seconds}
            ).execute()
            self.audit(
                AuditAction.SETTING_CHANGED,
                subject="plan_timeout_s",
                details={"from": old, "to": seconds},
            )

    def set_four_eyes(self: Console, value: bool | str) -> None:
        if value not in (True, False, "auto"):
            raise BadInput("four_eyes: use on, off or auto")
        self.require_role(Role.ADMINISTRATOR, "changing settings")
        with self.transaction():
            old = self.setting("four_eyes", "auto")
            Setting.insert(key="four_eyes", value=value).on_conflict(
                conflict_target=[Setting.key], update={Setting.value: value}
            ).execute()
            self.audit(
                AuditAction.SETTING_CHANGED, subject="four_eyes", details={"from": old, "to": value}
            )
