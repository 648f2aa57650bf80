"""Names of states and kinds. Values are what the database stores."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    APPLYING = "applying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    HELD = "held"


class WriteStatus(StrEnum):
    PLANNED = "planned"
    PENDING = "pending"
    APPROVED = "approved"
    APPLYING = "applying"
    APPLIED = "applied"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    INTERRUPTED = "interrupted"
    STALE = "stale"  # its target changed since the preview; replaced by a new write


class Stage(StrEnum):
    DRY_RUN = "dry_run"
    STAGING = "staging"
    PRODUCTION = "production"


class RunMode(StrEnum):
    DRY_RUN = "dry_run"
    STAGING = "staging"
    PRODUCTION = "production"


class EffectKind(StrEnum):
    """Kinds of effect that each have their own kill switch."""

    EMAIL = "email"
    HTTP = "http"
    COMMAND = "command"
    FILE = "file"
    CUSTOMER_FACING = "customer_facing"
    AI = "ai"  # prompt steps: every call to an AI provider (a read, at plan time)


class ReviewKind(StrEnum):
    FIRST_RUN = "first_run"
    AFTER_FAILURE = "after_failure"
    PROVIDER_CHANGE = "provider_change"
    MONTHLY = "monthly"


class ApprovalMode(StrEnum):
    ALWAYS = "always"
    UNTIL_REVIEWED = "until_reviewed"


class TriggerEvent(StrEnum):
    CREATED = "created"
    MODIFIED = "modified"
    MOVED = "moved"


class InputRead(StrEnum):
    NONE = "none"
    TEXT = "text"
    CSV = "csv"
    JSON = "json"


class SwitchScope(StrEnum):
    """What a kill switch covers."""

    GLOBAL = "global"
    CATEGORY = "category"
    EFFECT = "effect"


BUILTIN_ACTION_EFFECTS: dict[str, EffectKind] = {
    "write_file": EffectKind.FILE,
    "copy_file": EffectKind.FILE,
    "move_file": EffectKind.FILE,
    "http_request": EffectKind.HTTP,
    "send_email": EffectKind.EMAIL,
    "run_command": EffectKind.COMMAND,
    "prompt": EffectKind.AI,
}

# Write kinds whose apply can be checked and finished after a crash.
IDEMPOTENT_WRITE_KINDS = frozenset({"write_file", "copy_file", "move_file"})

# Write kinds whose failed apply may be tried again (the workflow's `retry`): the file
# actions, and HTTP requests, which always carry an Idempotency-Key header for the
# server to deduplicate (not idempotent after a crash: whether it was sent is unknown).
RETRYABLE_WRITE_KINDS = IDEMPOTENT_WRITE_KINDS | {"http_request"}
