"""Approvals of a write by each person (a workflow may need N distinct approvers)."""
# Python-side defaults (utcnow) live in the models; the DDL has none.
from peewee import *


def up(migrator, db):
    class WriteApproval(Model):
        write = IntegerField(index=True)
        approver = CharField()
        at = DateTimeField()
        comment = TextField(null=True)
        class Meta:
            database = db
            table_name = 'write_approval'
            indexes = ((('write', 'approver'), True),)
    db.create_tables([WriteApproval])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('write_approval'))
