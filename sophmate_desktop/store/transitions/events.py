"""The audit events of runs and writes, built one way: "run N" / "write N" subjects,
with the workflow, category and run they belong to."""

from __future__ import annotations

from typing import Any

from sophmate_desktop.domain.names import ENGINE_ACTOR, AuditAction
from sophmate_desktop.store.audit import NewEvent


def run_event(
    action: AuditAction,
    run_id: int,
    *,
    workflow: str | None,
    category: str | None,
    actor: str = ENGINE_ACTOR,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> NewEvent:
    return _event(action, f"run {run_id}", run_id, workflow, category, actor, reason, details)


def write_event(
    action: AuditAction,
    write_id: int,
    run_id: int,
    *,
    workflow: str | None,
    category: str | None,
    actor: str = ENGINE_ACTOR,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> NewEvent:
    return _event(action, f"write {write_id}", run_id, workflow, category, actor, reason, details)


def _event(
    action: AuditAction,
    subject: str,
    run_id: int,
    workflow: str | None,
    category: str | None,
    actor: str,
    reason: str | None,
    details: dict[str, Any] | None,
) -> NewEvent:
    return NewEvent(
        actor=actor,
        action=action,
        subject=subject,
        category=category,
        workflow=workflow,
        run=run_id,
        reason=reason,
        details=details,
    )
