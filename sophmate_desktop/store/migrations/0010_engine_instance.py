"""Engine instances (recovery tells a dead engine by its pid's start time, not a bare
pid) and the process groups of the commands they started (killed after a crash)."""
# Python-side defaults (utcnow) live in the models; the DDL has none.
from peewee import *


def up(migrator, db):
    class EngineInstance(Model):
        id = CharField(primary_key=True, max_length=32)
        host = CharField(max_length=255)
        pid = IntegerField()
        pid_start = BigIntegerField(null=True)
        started_at = DateTimeField()
        heartbeat_at = DateTimeField()
        stopped_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'engine_instance'

    class EngineProcess(Model):
        instance = CharField(max_length=32, index=True)
        write = IntegerField(null=True)
        pid = IntegerField()
        pgid = IntegerField()
        pid_start = BigIntegerField(null=True)
        started_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'engine_process'
    db.create_tables([EngineInstance, EngineProcess])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('engine_process'), migrator.drop_table('engine_instance'))
