"""Logins of a team on the test PostgreSQL server (`PgTeam`).

Roles are cluster-wide while every worker has its own database: each test's logins
carry a prefix of their own, and the test's logins and its database's group role
(`<database>_team`) are dropped at teardown, so that parallel workers and other
checkouts sharing the server never meet."""

from __future__ import annotations

import secrets
import uuid
from urllib.parse import urlsplit, urlunsplit

import keyring
import psycopg
import pytest
from psycopg import sql

from sophmate_desktop.secrets import DB_LOGIN_SECRET, SERVICE
from tests.support.cli import Cli
from tests.support.postgres import PG_URL, reset_pg_schema


class PgTeam:
    def __init__(self, admin_url: str = PG_URL) -> None:
        self.admin_url = admin_url  # the schema owner's URL (it may create roles)
        self.prefix = f"sm{uuid.uuid4().hex[:8]}_"
        self.database = urlsplit(admin_url).path.lstrip("/")
        self.made: list[str] = []

    def login(self, who: str) -> str:
        """This test's name for `who` (a login made by `team user add`, or by `create`)."""
        name = self.prefix + who
        if name not in self.made:
            self.made.append(name)
        return name

    def keep_password(self, login: str) -> str:
        """A fresh password for `login`, stored in this process's keyring where both
        `team user add --password-from-keyring` and connecting look for it."""
        password = secrets.token_urlsafe(16)
        keyring.set_password(SERVICE, DB_LOGIN_SECRET.format(login=login), password)
        return password

    def url(self, login: str) -> str:
        """The database URL of `login`, without a password (the keyring has it)."""
        parts = urlsplit(self.admin_url)
        host = f"{parts.hostname}:{parts.port or 5432}"
        return urlunsplit(parts._replace(netloc=f"{login}@{host}"))

    def connect(self, login: str) -> psycopg.Connection:
        """psql's view: a plain connection as `login`, with its password."""
        parts = urlsplit(self.admin_url)
        password = keyring.get_password(SERVICE, DB_LOGIN_SECRET.format(login=login))
        return psycopg.connect(
            host=parts.hostname,
            port=parts.port or 5432,
            dbname=self.database,
            user=login,
            password=password,
            autocommit=True,
        )

    def create(self, who: str, *, createrole: bool = False) -> str:
        """A login made outside the program (as a DBA would), with a kept password."""
        login = self.login(who)
        password = self.keep_password(login)
        options = sql.SQL(" CREATEROLE") if createrole else sql.SQL("")
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}{}").format(
                    sql.Identifier(login), sql.Literal(password), options
                )
            )
        return login

    def drop(self) -> None:
        """Drop this test's logins and the group role (its grants go with the schema)."""
        reset_pg_schema()
        group = f"{self.database}_team"[:63]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for login in self.made:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(login)))
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (group,)).fetchone():
                conn.execute(
                    sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(
                        sql.Identifier(self.database), sql.Identifier(group)
                    )
                )
                conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(group)))


class TeamCli(Cli):
    """`Cli` on PostgreSQL, where who acts is the login: each actor is a login of its
    own (this test's prefix + the name, an administrator of the team), so that four
    eyes and "decided by" tell people apart as on SQLite. `url` stays the owner's."""

    def __init__(self, pg_team: PgTeam, capsys) -> None:
        super().__init__(pg_team.admin_url, capsys)
        self.pg_team = pg_team
        self.logins: dict[str, str] = {}
        owner = Cli(pg_team.admin_url, capsys)
        for step in (("init",), ("team", "init")):
            done = owner(*step)
            assert done.code == 0, done.err
        self.owner = owner

    def who(self, actor: str) -> str:
        if actor not in self.logins:
            login = self.pg_team.login(actor)
            self.pg_team.keep_password(login)
            added = self.owner(
                "team", "user", "add", login, "--role", "administrator", "--password-from-keyring"
            )
            assert added.code == 0, added.err
            self.logins[actor] = login
        return self.logins[actor]

    def url_of(self, actor: str) -> str:
        return self.pg_team.url(self.who(actor))


def add(owner: Cli, pg_team, who: str, role: str) -> tuple[str, Cli]:
    login = pg_team.login(who)
    pg_team.keep_password(login)
    done = owner("team", "user", "add", login, "--role", role, "--password-from-keyring")
    assert done.code == 0, done.err
    return login, Cli(pg_team.url(login), owner.capsys)


def refused_in_psql(
    pg_team, login: str, statement: str, params: tuple = (), match: str | None = None
) -> None:
    """psql on `login`'s own connection: the database refuses `statement`."""
    with (
        pg_team.connect(login) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match=match),
    ):
        conn.execute(statement, params)
