"""An index of writes by run and status (issue 16, item 2): settling a run after each
applied batch asks whether any of its writes is still open, and with only the
(run, seq) index that read every write of the run from the table, once per batch
(a 10,000-write run: 156 batches of 64, each reading 10,000 rows). With this index the
question is a seek, and the final count of a run's writes reads the index alone.
The same statement runs on SQLite and PostgreSQL.
"""

INDEXES = (('write_run_status', '"write" ("run_id", "status")'),)


def up(migrator, db):
    for name, spec in INDEXES:
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON {spec}')


def down(migrator, db):
    for name, _spec in INDEXES:
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
