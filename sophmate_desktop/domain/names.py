"""Names as types: every audit action and every engine/console event kind.

An audit event's `action` is always an `AuditAction`; the events the engine and the
console publish to listeners are an `AuditAction` (a state change just committed) or
an `EventKind` (something else worth a repaint). The Audit page's filter is built from
`AuditAction`, so a new action cannot be forgotten there.
"""

from __future__ import annotations

from enum import StrEnum

from sophmate_desktop.domain.enums import RunStatus, WriteStatus


class AuditAction(StrEnum):
    CATEGORY_CREATED = "category.created"
    CATEGORY_PAUSED = "category.paused"
    CATEGORY_RESUMED = "category.resumed"
    CATEGORY_BUDGET_SET = "category.budget_set"
    CONNECTION_CREATED = "connection.created"
    CONNECTION_CHANGED = "connection.changed"
    DATABASE_RESTORED = "database.restored"
    EFFECT_PAUSED = "effect.paused"
    EFFECT_RESUMED = "effect.resumed"
    GLOBAL_PAUSED = "global.paused"
    GLOBAL_RESUMED = "global.resumed"
    HELD_REPLAYED = "held.replayed"
    HELD_DISCARDED = "held.discarded"
    NOTICE_ACKNOWLEDGED = "notice.acknowledged"
    PROMPT_CALLED = "prompt.called"
    REVIEW_DUE = "review.due"
    REVIEW_RECORDED = "review.recorded"
    RUN_QUEUED = "run.queued"
    RUN_HELD = "run.held"
    RUN_STARTED = "run.started"
    RUN_PLANNED = "run.planned"
    RUN_SUCCEEDED = "run.succeeded"
    RUN_FAILED = "run.failed"
    RUN_REJECTED = "run.rejected"
    RUN_CANCELLED = "run.cancelled"
    RUN_REQUEUED = "run.requeued"
    RUN_RETRIED = "run.retried"
    RUN_RETRY_SCHEDULED = "run.retry_scheduled"
    SCHEDULE_SKIPPED = "schedule.skipped"
    SECRET_SET = "secret.set"
    SECRET_REPLACED = "secret.replaced"
    SECRET_DELETED = "secret.deleted"
    SETTING_CHANGED = "setting.changed"
    TEAM_INITIALIZED = "team.initialized"
    TEAM_MEMBER_ADDED = "team.member_added"
    TEAM_ROLE_CHANGED = "team.role_changed"
    TEAM_MEMBER_REMOVED = "team.member_removed"
    WATCH_PROBLEM = "watch.problem"
    WORKFLOW_IMPORTED = "workflow.imported"
    WORKFLOW_UPDATED = "workflow.updated"
    WORKFLOW_ENABLED = "workflow.enabled"
    WORKFLOW_DISABLED = "workflow.disabled"
    WORKFLOW_PROMOTED = "workflow.promoted"
    WORKFLOW_PREVIEWED = "workflow.previewed"
    WORKFLOW_AUTO_PAUSED = "workflow.auto_paused"
    WORKFLOW_PAUSED = "workflow.paused"
    WORKFLOW_RESUMED = "workflow.resumed"
    WRITE_APPROVED = "write.approved"
    WRITE_APPROVAL_RECORDED = "write.approval_recorded"
    WRITE_REJECTED = "write.rejected"
    WRITE_APPLYING = "write.applying"
    WRITE_APPLIED = "write.applied"
    WRITE_FAILED = "write.failed"
    WRITE_INTERRUPTED = "write.interrupted"
    WRITE_STALE = "write.stale"
    WRITE_RESUMED = "write.resumed"
    WRITE_RETRIED = "write.retried"
    WRITE_RETRY_SCHEDULED = "write.retry_scheduled"
    WRITE_MARKED_APPLIED = "write.marked_applied"
    WRITE_CANCELLED = "write.cancelled"
    WRITE_UNDO_PLANNED = "write.undo_planned"

    @classmethod
    def for_run(cls, status: RunStatus | str) -> AuditAction:
        """The action that records a run entering `status` (run.queued, run.failed, ...)."""
        return cls(f"run.{RunStatus(status).value}")

    @classmethod
    def for_write(cls, status: WriteStatus | str) -> AuditAction:
        """The action that records a write entering `status` (write.applied, ...)."""
        return cls(f"write.{WriteStatus(status).value}")


class EventKind(StrEnum):
    """Events published to listeners that are not an audit action."""

    RUNS_CREATED = "runs.created"
    # a run now in this status (one per RunStatus; run.started for running)
    RUN_QUEUED = "run.queued"
    RUN_HELD = "run.held"
    RUN_STARTED = "run.started"
    RUN_AWAITING_APPROVAL = "run.awaiting_approval"
    RUN_APPLYING = "run.applying"
    RUN_SUCCEEDED = "run.succeeded"
    RUN_FAILED = "run.failed"
    RUN_REJECTED = "run.rejected"
    RUN_CANCELLED = "run.cancelled"
    WORKFLOW_AUTO_PAUSED = "workflow.auto_paused"
    WRITE_FINISHED = "write.finished"
    WRITES_APPROVED = "writes.approved"
    WRITES_REJECTED = "writes.rejected"
    SWITCHES_CHANGED = "switches.changed"
    NOTIFICATION = "notification"
    NOTICES_CHANGED = "notices.changed"
    DB_CHANGED = "db.changed"
    # the engine cannot commit (locked, read-only, full): it stops applying until it can
    DATABASE_UNWRITABLE = "engine.database_unwritable"
    DATABASE_WRITABLE = "engine.database_writable"
    # outcomes known to the engine, kept in the journal until the database takes them
    WRITES_RECORDING = "writes.recording"

    @classmethod
    def for_run(cls, status: RunStatus | str) -> EventKind:
        """The event announcing a run now in `status` (after planning, cancelling...)."""
        status = RunStatus(status)
        return cls.RUN_STARTED if status is RunStatus.RUNNING else cls(f"run.{status.value}")


ENGINE_ACTOR = "engine"
POLICY_ACTOR = "policy"
