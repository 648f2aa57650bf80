"""The decision events by subject ("write 41"): on a team database the guard that a
decision has its audit event (store/team_sql.py) looks one up per decided write at
commit, in bulk decisions of thousands; a partial index keeps that one probe each."""


def up(migrator, db):
    db.execute_sql(
        'CREATE INDEX IF NOT EXISTS "audit_event_decisions" ON "audit_event" ("subject") '
        "WHERE \"action\" IN ('write.approved', 'write.rejected')"
    )


def down(migrator, db):
    db.execute_sql('DROP INDEX IF EXISTS "audit_event_decisions"')
