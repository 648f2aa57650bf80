"""peewee models of DESIGN section 2, bound to one DatabaseProxy.

Names, not foreign keys, tie audit events and notifications to workflows and
categories, so the trail survives a rename or a deletion.
"""

from __future__ import annotations

import json
from typing import Any

from peewee import (
    SQL,
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DatabaseProxy,
    DateTimeField,
    DoubleField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from sophmate_desktop.domain.clock import utcnow

database_proxy = DatabaseProxy()
GENESIS_HASH = "0" * 64


# json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False), without
# building an encoder per value (a big plan stores a million payloads).
_JSON_TEXT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class JSONField(TextField):
    """JSON stored as text: portable between SQLite and PostgreSQL."""

    def db_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return _JSON_TEXT.encode(value)

    def python_value(self, value: str | None) -> Any:
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class Category(BaseModel):
    name = CharField(unique=True, max_length=64)
    description = TextField(default="")
    paused = BooleanField(default=False)
    paused_by = CharField(null=True)
    paused_reason = TextField(null=True)
    paused_at = DateTimeField(null=True)
    budget_per_day = DoubleField(null=True)
    budget_per_month = DoubleField(null=True)
    created_at = DateTimeField(default=utcnow)


class Switch(BaseModel):
    """The global switch (scope global, name 'all') and one per effect kind."""

    scope = CharField(max_length=16)
    name = CharField(max_length=64)
    paused = BooleanField(default=False)
    paused_by = CharField(null=True)
    paused_reason = TextField(null=True)
    paused_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("scope", "name"), True),)


class Workflow(BaseModel):
    name = CharField(unique=True, max_length=64)
    category = ForeignKeyField(Category, backref="workflows", on_delete="RESTRICT")
    owner = CharField(null=True)
    description = TextField(default="")
    definition = JSONField()
    revision = IntegerField(default=1)
    stage = CharField(max_length=16, default="dry_run")
    enabled = BooleanField(default=False)
    paused = BooleanField(default=False)
    paused_by = CharField(null=True)
    paused_reason = TextField(null=True)
    paused_at = DateTimeField(null=True)
    consecutive_failures = IntegerField(default=0)
    last_failure_at = DateTimeField(null=True)
    last_provider_change_at = DateTimeField(null=True)
    gate_tightened_at = DateTimeField(null=True)
    last_reviewed_at = DateTimeField(null=True)
    first_run_reviewed = BooleanField(default=False)
    review_due_at = DateTimeField(null=True)
    plugin_versions = JSONField(default=dict)
    created_by = CharField()
    created_at = DateTimeField(default=utcnow)
    updated_by = CharField()
    updated_at = DateTimeField(default=utcnow)


class Run(BaseModel):
    workflow = ForeignKeyField(Workflow, backref="runs", on_delete="CASCADE")
    revision = IntegerField()
    trigger_kind = CharField(max_length=16)  # file | manual | schedule | replay | retry
    trigger_path = TextField(null=True)
    trigger_size = BigIntegerField(null=True)
    trigger_mtime = DoubleField(null=True)
    trigger_hash = CharField(null=True, max_length=64)
    mode = CharField(max_length=16)
    status = CharField(max_length=20, index=True)
    attempt = IntegerField(default=1)
    queued_at = DateTimeField(default=utcnow, index=True)
    next_attempt_at = DateTimeField(null=True)
    started_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)
    error = TextField(null=True)
    diagnostics = JSONField(null=True)
    duration_ms = IntegerField(null=True)
    bytes_read = BigIntegerField(default=0)
    bytes_written = BigIntegerField(default=0)
    actions = IntegerField(default=0)
    affected_records = IntegerField(default=0)
    cost = DoubleField(default=0.0)
    host = CharField(null=True)
    claimed_by = CharField(null=True)
    reviewed_at = DateTimeField(null=True)
    created_by = CharField(default="engine")

    class Meta:
        indexes = ((("workflow", "id"), False), (("status", "queued_at"), False))


class Write(BaseModel):
    run = ForeignKeyField(Run, backref="writes", on_delete="CASCADE")
    workflow = ForeignKeyField(Workflow, backref="writes", on_delete="CASCADE")
    category = CharField(max_length=64, index=True)
    seq = IntegerField()
    kind = CharField(max_length=64)  # the action: write_file, send_email, ...
    effect = CharField(max_length=20)
    target = TextField()
    summary = TextField(default="")
    preview = TextField(default="")
    payload = JSONField(default=dict)
    customer_facing = BooleanField(default=False)
    status = CharField(max_length=16)
    decided_by = CharField(null=True)
    decided_at = DateTimeField(null=True)
    comment = TextField(null=True)
    idempotency_key = CharField(unique=True, max_length=80)
    created_at = DateTimeField(default=utcnow)
    applied_at = DateTimeField(null=True)
    undo = JSONField(null=True)
    error = TextField(null=True)
    cost = DoubleField(default=0.0)
    claimed_by = CharField(null=True, max_length=128)  # host:pid of the applying engine
    attempt = IntegerField(default=1)  # apply attempts so far, this one included
    next_attempt_at = DateTimeField(null=True)  # a retried write is not applied before
    # its content came from a prompt step (a database default too: see migration 0025)
    ai_drafted = BooleanField(default=False, constraints=[SQL("DEFAULT FALSE")])

    class Meta:
        indexes = (
            (("status", "id"), False),
            (("run", "seq"), True),
            (("workflow", "status"), False),
        )


class PromptCall(BaseModel):
    """One call of a prompt step to an AI provider (or its dry-run placeholder)."""

    run_id = IntegerField()
    seq = IntegerField()
    step = IntegerField()  # the step's index (from 0)
    step_name = CharField(max_length=64, null=True)  # its `as`
    record_number = IntegerField(null=True)  # with for_each: which record (from 1)
    connection = CharField(max_length=64)
    provider = CharField(max_length=16)  # openai | anthropic
    model = CharField(max_length=128)
    status = CharField(max_length=16)  # answered | placeholder | failed
    system = TextField(default="")  # rendered, secrets masked
    prompt = TextField(default="")
    answer = TextField(default="")
    tokens_in = IntegerField(default=0)
    tokens_out = IntegerField(default=0)
    latency_ms = DoubleField(default=0.0)
    cost = DoubleField(default=0.0)
    request_id = CharField(max_length=128, null=True)
    error = TextField(null=True)
    attempt = IntegerField(default=1)  # the run's attempt that made it
    at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "prompt_call"
        indexes = ((("run_id", "seq"), False),)


class WriteApproval(BaseModel):
    """One person's approval of a write that needs more than one (the write's id, not
    a foreign key: the 0009 table stands alone)."""

    write = IntegerField(index=True)
    approver = CharField()
    at = DateTimeField(default=utcnow)
    comment = TextField(null=True)

    class Meta:
        indexes = ((("write", "approver"), True),)


class AuditEvent(BaseModel):
    """One link of the hash chain. `at` is ISO text so the hash input is exact."""

    id = AutoField()
    at = CharField(max_length=32)
    actor = CharField()
    action = CharField(max_length=64)
    subject = TextField(default="")
    category = CharField(null=True, max_length=64)
    workflow = CharField(null=True, max_length=64)
    run = IntegerField(null=True)
    details = JSONField(default=dict)
    reason = TextField(null=True)
    prev_hash = CharField(max_length=64)
    hash = CharField(max_length=64)
    mac = CharField(max_length=64, null=True)  # HMAC of `hash` under the audit key

    class Meta:
        indexes = (
            (("workflow", "id"), False),
            (("category", "at"), False),
            (("action", "id"), False),
            (("actor", "id"), False),
            (("at",), False),
            (("run",), False),
        )


class AuditHead(BaseModel):
    """One row: the chain head. Locking it serializes appends across processes."""

    id = IntegerField(primary_key=True)
    last_id = BigIntegerField(default=0)
    last_hash = CharField(max_length=64)


class Review(BaseModel):
    workflow = ForeignKeyField(Workflow, backref="reviews", on_delete="CASCADE")
    reviewer = CharField()
    at = DateTimeField(default=utcnow)
    kind = CharField(max_length=20)
    notes = TextField(default="")


class Connection(BaseModel):
    name = CharField(unique=True, max_length=64)
    kind = CharField(max_length=16)  # smtp | http | command
    settings = JSONField(default=dict)
    staging_settings = JSONField(null=True)
    secret_ref = CharField(null=True)
    changed_at = DateTimeField(default=utcnow)
    changed_by = CharField()


class Notification(BaseModel):
    at = DateTimeField(default=utcnow, index=True)
    level = CharField(max_length=16)  # info | warning | error
    kind = CharField(max_length=32)  # run_failed | auto_paused | escalation | writes_pending
    title = TextField()
    body = TextField(default="")
    workflow = CharField(null=True, max_length=64)
    run = IntegerField(null=True)
    group_key = CharField(null=True, max_length=128, index=True)
    count = IntegerField(default=1)
    read = BooleanField(default=False)
    acknowledged_by = CharField(null=True)
    acknowledged_at = DateTimeField(null=True)


class NoticeDelivery(BaseModel):
    """The outbox: one notice to one target (as written: secrets not expanded)."""

    notification = IntegerField(index=True)
    target = TextField()
    title = TextField()
    body = TextField(default="")
    status = CharField(max_length=16, default="pending", index=True)  # pending | sent | failed
    attempts = IntegerField(default=0)
    last_error = TextField(null=True)
    next_at = DateTimeField(default=utcnow, index=True)
    at = DateTimeField(default=utcnow)


class Setting(BaseModel):
    key = CharField(primary_key=True, max_length=64)
    value = JSONField()


class TeamMember(BaseModel):
    """A login's role on this database (domain/roles.py)."""

    login = CharField(primary_key=True, max_length=63)
    role = CharField(max_length=16)
    changed_by = CharField()
    changed_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "team_member"


class SecretRef(BaseModel):
    """Names of secrets kept in the keyring; never their values."""

    name = CharField(unique=True, max_length=128)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    updated_by = CharField()


class LedgerEntry(BaseModel):
    """A processed file version: what makes reconciliation exactly-once."""

    workflow = ForeignKeyField(Workflow, backref="ledger", on_delete="CASCADE")
    path = TextField()
    size = BigIntegerField()
    mtime_ns = BigIntegerField()
    sha256 = CharField(max_length=64)
    run_id = IntegerField(null=True)
    at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("workflow", "path", "size", "mtime_ns"), True),)


class EngineInstance(BaseModel):
    """One start of an engine: recovery tells it is dead by its pid's start time."""

    id = CharField(primary_key=True, max_length=32)
    host = CharField(max_length=255)
    pid = IntegerField()
    pid_start = BigIntegerField(null=True)  # /proc/PID/stat starttime (clock ticks)
    started_at = DateTimeField(default=utcnow)
    heartbeat_at = DateTimeField(default=utcnow)
    stopped_at = DateTimeField(null=True)
    name = CharField(max_length=64, null=True)  # the engine's name (the host's by default)
    pools = CharField(max_length=1024, null=True)  # the pools it belongs to, comma-separated
    lease_s = DoubleField(null=True)  # silent this long (another host's judge): dead

    class Meta:
        table_name = "engine_instance"


class EngineProcess(BaseModel):
    """A command's process group, while it runs: killed if its engine died."""

    instance = CharField(max_length=32, index=True)
    write = IntegerField(null=True)
    pid = IntegerField()
    pgid = IntegerField()
    pid_start = BigIntegerField(null=True)
    started_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "engine_process"


class ScheduleSlot(BaseModel):
    """A claimed slot of a time trigger: one row per (workflow, slot) whichever engine
    claims it, so any number of engines start one run per slot (store/schedules.py)."""

    workflow = ForeignKeyField(Workflow, backref="slots", on_delete="CASCADE")
    slot_at = DateTimeField()  # the slot's time (UTC)
    outcome = CharField(max_length=16)  # run | catch_up | skipped
    run_id = IntegerField(null=True)  # the run that serves it (none when skipped)
    claimed_by = CharField(null=True)
    at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "schedule_slot"
        indexes = ((("workflow", "slot_at"), True),)


class ScheduleState(BaseModel):
    """A scheduled workflow's next slot: slots before it are decided (run or skipped)."""

    workflow = ForeignKeyField(Workflow, primary_key=True, on_delete="CASCADE")
    schedule = CharField(max_length=255)  # domain.schedule.schedule_key: what it is for
    next_slot_at = DateTimeField()
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "schedule_state"


CORE_MODELS = [
    Category,
    Switch,
    Workflow,
    Run,
    Write,
    AuditEvent,
    AuditHead,
    Review,
    Connection,
    Notification,
    NoticeDelivery,
    Setting,
    SecretRef,
    WriteApproval,
    EngineInstance,
    EngineProcess,
    ScheduleSlot,
    ScheduleState,
    PromptCall,
    TeamMember,
]
ALL_MODELS = [*CORE_MODELS, LedgerEntry]
