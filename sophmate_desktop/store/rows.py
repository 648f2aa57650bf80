"""Frozen rows handed to the console's callers (CLI, UI): never live peewee objects."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sophmate_desktop.domain.clock import age_text


class _Row:
    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)  # type: ignore[call-overload]
        for key, value in out.items():
            if isinstance(value, datetime):
                out[key] = value.isoformat(timespec="seconds")
        return out


@dataclass(frozen=True)
class SwitchRow(_Row):
    scope: str  # global | category | effect
    name: str
    paused: bool
    paused_by: str | None
    paused_reason: str | None
    paused_at: datetime | None
    description: str = ""
    held_runs: int = 0
    workflows: int = 0
    budget_per_day: float | None = None  # categories: cost budgets (DESIGN 4)
    budget_per_month: float | None = None
    # After a resume with replay: why some held runs stay held (a switch or their
    # workflow still paused), one line per reason.
    left_held: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkflowRow(_Row):
    id: int
    name: str
    category: str
    owner: str | None
    description: str
    stage: str
    enabled: bool
    paused: bool
    paused_reason: str | None
    revision: int
    consecutive_failures: int
    last_reviewed_at: datetime | None
    updated_by: str
    updated_at: datetime
    missing_checklist: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunRow(_Row):
    id: int
    workflow: str
    category: str
    revision: int
    trigger_kind: str
    trigger_path: str | None
    mode: str
    status: str
    attempt: int
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    duration_ms: int | None
    writes: int
    affected_records: int
    bytes_read: int
    bytes_written: int
    cost: float
    reviewed: bool
    diagnostics: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class WriteRow(_Row):
    id: int
    run_id: int
    workflow: str
    category: str
    seq: int
    kind: str
    effect: str
    target: str
    summary: str
    preview: str
    customer_facing: bool
    status: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    comment: str | None
    applied_at: datetime | None
    error: str | None
    attempt: int = 1
    next_attempt_at: datetime | None = None  # a retry waits for its backoff
    approvals_given: int = 0
    approvals_needed: int = 1
    refusal: str | None = None  # why the listing person may not approve it now
    claimed_by: str | None = None  # the engine applying it
    recording: str | None = None  # "applied, recording...": its outcome waits to land
    ai_drafted: bool = False  # its content came from a prompt step's answer
    applying_since: datetime | None = None  # when its engine took it (applying only)
    engine_down: bool = False  # the engine applying it stopped answering

    @property
    def status_text(self) -> str:
        return status_text(self)


def status_text(row: Any) -> str:
    """A write's status as shown: an applying write names its engine, says whether that
    engine is down and for how long it has applied, or what the engine knows of it
    while the database has not taken its outcome yet."""
    if row.recording:
        return row.recording
    if row.status != "applying":
        return row.status
    text = f"applying on {row.claimed_by or 'an engine'}"
    if row.engine_down:
        text += " (engine down)"
    return text + (f" for {age_text(row.applying_since)}" if row.applying_since else "")


@dataclass(frozen=True)
class ReviewRow(_Row):
    id: int
    workflow: str
    reviewer: str
    at: datetime
    kind: str
    notes: str


@dataclass(frozen=True)
class AuditRow(_Row):
    id: int
    at: str
    actor: str
    action: str
    subject: str
    category: str | None
    workflow: str | None
    run: int | None
    reason: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class ConnectionRow(_Row):
    name: str
    kind: str
    settings: dict[str, Any]
    staging_settings: dict[str, Any] | None
    secret_ref: str | None
    changed_at: datetime
    changed_by: str


@dataclass(frozen=True)
class SecretRow(_Row):
    name: str
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class DecisionResult(_Row):
    """The outcome of one approve/reject in a bulk call."""

    write_id: int
    ok: bool
    status: str
    message: str = ""
    exit_code: int = 0


@dataclass(frozen=True)
class EngineRow(_Row):
    """One engine instance as every console sees it: up, down (silent or its process
    gone, its work not yet taken over or taken over), or stopped; and what it holds."""

    id: str
    name: str  # the engine's name (its host's when it was not given one)
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    state: str  # up | down | stopped
    silent_s: float  # since its last heartbeat
    runs_held: int  # runs it is planning
    writes_held: int  # writes it is applying
    pools: str = ""  # the pools it belongs to, comma-separated


@dataclass(frozen=True)
class PromptCallRow(_Row):
    """One call of a prompt step to an AI provider, as recorded on its run."""

    run_id: int
    seq: int
    step: int
    step_name: str | None
    record_number: int | None
    connection: str
    provider: str
    model: str
    status: str  # answered | placeholder | failed
    system: str
    prompt: str
    answer: str
    tokens_in: int
    tokens_out: int
    latency_ms: float
    cost: float
    request_id: str | None
    error: str | None
    attempt: int
    at: datetime

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out

    @property
    def about(self) -> str:
        """'row 3' (for_each) or 'the input'."""
        return f"row {self.record_number}" if self.record_number is not None else "the input"
