"""A write's apply attempts: retried writes (idempotent kinds, per the workflow's
`retry`) wait in approved until next_attempt_at."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('write', 'attempt', IntegerField(default=1)),
        migrator.add_column('write', 'next_attempt_at', DateTimeField(null=True)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column('write', 'next_attempt_at'),
        migrator.drop_column('write', 'attempt'),
    )
