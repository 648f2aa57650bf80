"""The ledger of processed file versions (reconciliation, exactly once)."""
# Python-side defaults (utcnow) live in the models; the DDL has none.
from peewee import *


def up(migrator, db):
    class Workflow(Model):
        class Meta:
            database = db
            table_name = 'workflow'

    class LedgerEntry(Model):
        workflow = ForeignKeyField(Workflow, on_delete='CASCADE')
        path = TextField()
        size = BigIntegerField()
        mtime_ns = BigIntegerField()
        sha256 = CharField(max_length=64)
        run_id = IntegerField(null=True)
        at = DateTimeField()
        class Meta:
            database = db
            table_name = 'ledger_entry'
            indexes = ((('workflow', 'path', 'size', 'mtime_ns'), True),)
    db.create_tables([LedgerEntry])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('ledger_entry'))
