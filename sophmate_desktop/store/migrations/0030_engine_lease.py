"""Engines declare their lease (issue 13): how long one may be silent before another
host's engine judges it dead and takes its work over (`engine --lease S`)."""

from peewee import DoubleField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("engine_instance", "lease_s", DoubleField(null=True)),
    )


def down(migrator, db):
    migrator.migrate(migrator.drop_column("engine_instance", "lease_s"))
