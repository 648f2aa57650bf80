"""Time triggers that fire once per slot (issue 12): claimed slots, unique per
(workflow, slot time), and each scheduled workflow's next slot. The same DDL runs on
SQLite and PostgreSQL."""
# Python-side defaults (utcnow) live in the models; the DDL has none.
from peewee import *


def up(migrator, db):
    class Workflow(Model):
        class Meta:
            database = db
            table_name = 'workflow'

    class ScheduleSlot(Model):
        workflow = ForeignKeyField(Workflow, on_delete='CASCADE')
        slot_at = DateTimeField()
        outcome = CharField(max_length=16)
        run_id = IntegerField(null=True)
        claimed_by = CharField(null=True)
        at = DateTimeField()
        class Meta:
            database = db
            table_name = 'schedule_slot'
            indexes = ((('workflow', 'slot_at'), True),)

    class ScheduleState(Model):
        workflow = ForeignKeyField(Workflow, primary_key=True, on_delete='CASCADE')
        schedule = CharField(max_length=255)
        next_slot_at = DateTimeField()
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'schedule_state'
    db.create_tables([ScheduleSlot, ScheduleState])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('schedule_state'), migrator.drop_table('schedule_slot'))
