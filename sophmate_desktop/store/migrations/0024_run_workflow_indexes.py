"""Two indexes of runs by workflow (issue 16, item 3): at 1,000,000 runs a page of one
workflow's runs by start time read every run of that workflow through `run_workflow_id`
and sorted them (91-103 ms under all three kinds of statistics), and one workflow's
failed runs walked that workflow's runs newest first looking for failures (50-83 ms).
With (workflow, start time) the first page is a seek and a walk of 100 index entries;
with (workflow, status, id) the failed page is too. The same statements run on SQLite
and PostgreSQL; the start time is the Runs page's sort expression, written as it is.
"""

INDEXES = (
    ("run_workflow_started", '"run" ("workflow_id", (COALESCE("started_at", "queued_at")))'),
    ("run_workflow_status_id", '"run" ("workflow_id", "status", "id")'),
)


def up(migrator, db):
    for name, spec in INDEXES:
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON {spec}')


def down(migrator, db):
    for name, _spec in INDEXES:
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
