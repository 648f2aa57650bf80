"""The notices' outbox: one row per notice and target, with its delivery outcome."""
# Python-side defaults (utcnow) live in the models; the DDL has none.
from peewee import *


def up(migrator, db):
    class NoticeDelivery(Model):
        notification = IntegerField(index=True)
        target = TextField()
        title = TextField()
        body = TextField(default='')
        status = CharField(max_length=16, default='pending', index=True)
        attempts = IntegerField(default=0)
        last_error = TextField(null=True)
        next_at = DateTimeField(index=True)
        at = DateTimeField()
        class Meta:
            database = db
            table_name = 'notice_delivery'
    db.create_tables([NoticeDelivery])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('notice_delivery'))
