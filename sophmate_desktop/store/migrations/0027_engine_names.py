"""Engines have names and pools (issue 13, item 3): `engines` shows which desktop an
instance is, and a workflow's `runs_on` names the engine or pool that runs it."""

from peewee import CharField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("engine_instance", "name", CharField(max_length=64, null=True)),
        migrator.add_column("engine_instance", "pools", CharField(max_length=1024, null=True)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("engine_instance", "pools"),
        migrator.drop_column("engine_instance", "name"),
    )
