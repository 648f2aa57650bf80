"""Which engine is applying a write (host:pid), for recovery after a crash."""
from peewee import *

def up(migrator, db):
    migrator.migrate(migrator.add_column('write', 'claimed_by', CharField(null=True, max_length=128)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column('write', 'claimed_by'))
