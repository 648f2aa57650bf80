"""Roles of a team (issue 13, item 2): which login has which role on this database.
Changed only by an administrator, each change audited; on PostgreSQL `team init` also
makes the database refuse a change by anyone else (store/team_sql.py)."""
from peewee import *


def up(migrator, db):
    class TeamMember(Model):
        login = CharField(primary_key=True, max_length=63)
        role = CharField(max_length=16)
        changed_by = CharField()
        changed_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'team_member'

    db.create_tables([TeamMember])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('team_member'))
