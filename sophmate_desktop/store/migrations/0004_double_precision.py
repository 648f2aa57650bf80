"""PostgreSQL: FloatField columns were created as `real` (4 bytes), too coarse for a
file's mtime and for summed costs; make them double precision. SQLite REAL is 8 bytes."""
from peewee import *

COLUMNS = (
    ('run', 'trigger_mtime'),
    ('run', 'cost'),
    ('write', 'cost'),
    ('category', 'budget_per_day'),
    ('category', 'budget_per_month'),
)


def _retype(db, sql_type):
    if not isinstance(db, PostgresqlDatabase):
        return
    for table, column in COLUMNS:
        db.execute_sql(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE {sql_type}')


def up(migrator, db):
    _retype(db, 'double precision')


def down(migrator, db):
    _retype(db, 'real')
