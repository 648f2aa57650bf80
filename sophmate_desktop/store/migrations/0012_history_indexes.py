"""Indexes that keep the history's reads flat at a million runs (issue 16, item 3).

Partial indexes hold only the small sets the pages ask about (runs not reviewed yet,
writes waiting for a person), so their size follows the work waiting, not the
history. The same statements run on SQLite and PostgreSQL.
"""

INDEXES = (
    # The dashboard: runs finished since a day, by status and workflow (covering).
    ('run_finished', 'run ("finished_at", "status", "workflow_id")'),
    # A reviewer's month: one workflow's runs finished since a day.
    ('run_workflow_finished', 'run ("workflow_id", "finished_at")'),
    # Runs awaiting a review (covering the counts by mode and status).
    ('run_unreviewed', 'run ("workflow_id", "mode", "status") WHERE "reviewed_at" IS NULL'),
    # Reviewed successful runs, what promotion counts (covering: the predicate's
    # columns are in it, so a count reads the index alone).
    ('run_reviewed_ok', 'run ("workflow_id", "mode", "status", "reviewed_at")'
     ' WHERE "status" = \'succeeded\' AND "reviewed_at" IS NOT NULL'),
    # Held runs per workflow (the dashboard, the switch panel).
    ('run_held', 'run ("workflow_id") WHERE "status" = \'held\''),
    # The runs page sorted by start time.
    ('run_started', 'run ((COALESCE("started_at", "queued_at")))'),
    # The inbox: writes waiting for a person, by category and workflow.
    ('write_pending', '"write" ("category", "workflow_id", "kind") WHERE "status" = \'pending\''),
    ('write_interrupted', '"write" ("category", "workflow_id", "kind")'
     ' WHERE "status" = \'interrupted\''),
    ('write_applying', '"write" ("category", "workflow_id", "kind") WHERE "status" = \'applying\''),
)


def up(migrator, db):
    for name, spec in INDEXES:
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON {spec}')


def down(migrator, db):
    for name, _spec in INDEXES:
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
