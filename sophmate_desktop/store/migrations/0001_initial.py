"""Initial schema: the records of DESIGN section 2 (generated from a schema diff)."""
# Python-side defaults (utcnow) live in the models; the DDL has none.
from peewee import *
JSONField = TextField  # JSON is stored as text


def up(migrator, db):
    class AuditEvent(Model):
        at = CharField(max_length=32)
        actor = CharField()
        action = CharField(max_length=64)
        subject = TextField(default='')
        category = CharField(null=True, max_length=64)
        workflow = CharField(null=True, max_length=64)
        run = IntegerField(null=True)
        details = JSONField(default=dict)
        reason = TextField(null=True)
        prev_hash = CharField(max_length=64)
        hash = CharField(max_length=64)
        class Meta:
            database = db
            table_name = 'audit_event'
            indexes = ((('workflow', 'id'), False), (('category', 'at'), False), (('action', 'id'), False), (('actor', 'id'), False), (('at',), False), (('run',), False))
    db.create_tables([AuditEvent])

    class AuditHead(Model):
        id = IntegerField(primary_key=True)
        last_id = BigIntegerField(default=0)
        last_hash = CharField(max_length=64)
        class Meta:
            database = db
            table_name = 'audit_head'
    db.create_tables([AuditHead])

    class Category(Model):
        name = CharField(unique=True, max_length=64)
        description = TextField(default='')
        paused = BooleanField(default=False)
        paused_by = CharField(null=True)
        paused_reason = TextField(null=True)
        paused_at = DateTimeField(null=True)
        budget_per_day = FloatField(null=True)
        budget_per_month = FloatField(null=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'category'
    db.create_tables([Category])

    class Connection(Model):
        name = CharField(unique=True, max_length=64)
        kind = CharField(max_length=16)
        settings = JSONField(default=dict)
        staging_settings = JSONField(null=True)
        secret_ref = CharField(null=True)
        changed_at = DateTimeField()
        changed_by = CharField()
        class Meta:
            database = db
            table_name = 'connection'
    db.create_tables([Connection])

    class Notification(Model):
        at = DateTimeField(index=True)
        level = CharField(max_length=16)
        kind = CharField(max_length=32)
        title = TextField()
        body = TextField(default='')
        workflow = CharField(null=True, max_length=64)
        run = IntegerField(null=True)
        group_key = CharField(index=True, null=True, max_length=128)
        count = IntegerField(default=1)
        read = BooleanField(default=False)
        acknowledged_by = CharField(null=True)
        acknowledged_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'notification'
    db.create_tables([Notification])

    class Workflow(Model):
        name = CharField(unique=True, max_length=64)
        category = ForeignKeyField(Category, on_delete='RESTRICT')
        owner = CharField(null=True)
        description = TextField(default='')
        definition = JSONField()
        revision = IntegerField(default=1)
        stage = CharField(max_length=16, default='dry_run')
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
        created_at = DateTimeField()
        updated_by = CharField()
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'workflow'
    db.create_tables([Workflow])

    class Review(Model):
        workflow = ForeignKeyField(Workflow, on_delete='CASCADE')
        reviewer = CharField()
        at = DateTimeField()
        kind = CharField(max_length=20)
        notes = TextField(default='')
        class Meta:
            database = db
            table_name = 'review'
    db.create_tables([Review])

    class Run(Model):
        workflow = ForeignKeyField(Workflow, on_delete='CASCADE')
        revision = IntegerField()
        trigger_kind = CharField(max_length=16)
        trigger_path = TextField(null=True)
        trigger_size = BigIntegerField(null=True)
        trigger_mtime = FloatField(null=True)
        trigger_hash = CharField(null=True, max_length=64)
        mode = CharField(max_length=16)
        status = CharField(index=True, max_length=20)
        attempt = IntegerField(default=1)
        queued_at = DateTimeField(index=True)
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
        cost = FloatField(default=0.0)
        host = CharField(null=True)
        claimed_by = CharField(null=True)
        reviewed_at = DateTimeField(null=True)
        created_by = CharField(default='engine')
        class Meta:
            database = db
            table_name = 'run'
            indexes = ((('workflow', 'id'), False), (('status', 'queued_at'), False))
    db.create_tables([Run])

    class SecretRef(Model):
        name = CharField(unique=True, max_length=128)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        updated_by = CharField()
        class Meta:
            database = db
            table_name = 'secret_ref'
    db.create_tables([SecretRef])

    class Setting(Model):
        key = CharField(primary_key=True, max_length=64)
        value = JSONField()
        class Meta:
            database = db
            table_name = 'setting'
    db.create_tables([Setting])

    class Switch(Model):
        scope = CharField(max_length=16)
        name = CharField(max_length=64)
        paused = BooleanField(default=False)
        paused_by = CharField(null=True)
        paused_reason = TextField(null=True)
        paused_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'switch'
            indexes = ((('scope', 'name'), True),)
    db.create_tables([Switch])

    class Write(Model):
        run = ForeignKeyField(Run, on_delete='CASCADE')
        workflow = ForeignKeyField(Workflow, on_delete='CASCADE')
        category = CharField(index=True, max_length=64)
        seq = IntegerField()
        kind = CharField(max_length=64)
        effect = CharField(max_length=20)
        target = TextField()
        summary = TextField(default='')
        preview = TextField(default='')
        payload = JSONField(default=dict)
        customer_facing = BooleanField(default=False)
        status = CharField(max_length=16)
        decided_by = CharField(null=True)
        decided_at = DateTimeField(null=True)
        comment = TextField(null=True)
        idempotency_key = CharField(unique=True, max_length=80)
        created_at = DateTimeField()
        applied_at = DateTimeField(null=True)
        undo = JSONField(null=True)
        error = TextField(null=True)
        cost = FloatField(default=0.0)
        class Meta:
            database = db
            table_name = 'write'
            indexes = ((('status', 'id'), False), (('run', 'seq'), True), (('workflow', 'status'), False))
    db.create_tables([Write])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('write'))
    migrator.migrate(migrator.drop_table('switch'))
    migrator.migrate(migrator.drop_table('setting'))
    migrator.migrate(migrator.drop_table('secret_ref'))
    migrator.migrate(migrator.drop_table('run'))
    migrator.migrate(migrator.drop_table('review'))
    migrator.migrate(migrator.drop_table('workflow'))
    migrator.migrate(migrator.drop_table('notification'))
    migrator.migrate(migrator.drop_table('connection'))
    migrator.migrate(migrator.drop_table('category'))
    migrator.migrate(migrator.drop_table('audit_head'))
    migrator.migrate(migrator.drop_table('audit_event'))
