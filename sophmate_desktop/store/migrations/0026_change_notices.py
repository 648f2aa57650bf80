"""PostgreSQL tells every listening engine and window when something they act on
changed (issue 13, item 5): statement triggers on the tables of switches, workflows,
runs and writes send `NOTIFY sophmate_changes` with the table's name. A notification
is delivered at commit (never for a rolled-back change), once per table and
transaction however many rows changed, and whoever wrote the change (this app, a
script, psql). Listeners treat it as a hint to look again (store/change_listener.py);
their ticks remain as the fallback. SQLite has no such thing: nothing to do there.
"""

CHANNEL = "sophmate_changes"
TABLES = ("switch", "category", "workflow", "run", "write", "setting")


def up(migrator, db):
    if db.__class__.__name__ != "PostgresqlDatabase":
        return
    db.execute_sql(
        f"""
        CREATE OR REPLACE FUNCTION sophmate_notify_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
            RETURN NULL;
        END $$
        """
    )
    for table in TABLES:
        db.execute_sql(f'DROP TRIGGER IF EXISTS "sophmate_notify_{table}" ON "{table}"')
        db.execute_sql(
            f'CREATE TRIGGER "sophmate_notify_{table}" AFTER INSERT OR UPDATE OR DELETE '
            f'ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION sophmate_notify_change()'
        )


def down(migrator, db):
    if db.__class__.__name__ != "PostgresqlDatabase":
        return
    for table in TABLES:
        db.execute_sql(f'DROP TRIGGER IF EXISTS "sophmate_notify_{table}" ON "{table}"')
    db.execute_sql("DROP FUNCTION IF EXISTS sophmate_notify_change()")
