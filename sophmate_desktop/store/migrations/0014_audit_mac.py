"""A keyed MAC per audit event (HMAC-SHA256 of its hash under the audit key held in
the keyring): an event appended behind the product's back, even with a valid sha256
chain hash, has none. Events before this migration have none either: verify says
from which id MACs start."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('audit_event', 'mac', CharField(max_length=64, null=True)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column('audit_event', 'mac'),
    )
