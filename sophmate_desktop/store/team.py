"""The team of a PostgreSQL database: who is logged in, the roles, the refusals.

On PostgreSQL the actor is the login (`session_user`), never a name a command passes.
Roles live in team_member; once `team init` has run (team_sql.install) the database
itself refuses what a login's role forbids, with SQLSTATE 42501, which
`database_refusal` turns into the product's refusal (exit 3).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from peewee import Database

from sophmate_desktop.domain.errors import BadInput, PolicyRefused
from sophmate_desktop.domain.roles import Role, parse_role
from sophmate_desktop.store.database import is_sqlite
from sophmate_desktop.store.models import TeamMember

INSUFFICIENT_PRIVILEGE = "42501"


@dataclass(frozen=True)
class Member:
    login: str
    role: str
    changed_by: str
    changed_at: datetime


def session_login(db: Database) -> str | None:
    """The login of this connection on PostgreSQL; None on SQLite."""
    if is_sqlite(db):
        return None
    (login,) = db.execute_sql("SELECT session_user").fetchone()
    return str(login)


def has_team(db: Database) -> bool:
    """Whether roles are in force: a PostgreSQL database where `team init` has run."""
    if is_sqlite(db):
        return False
    return TeamMember.select().exists()


def role_of(db: Database, login: str) -> Role | None:
    """The role of `login`: every login is administrator where no team is set up (one
    desktop, or PostgreSQL before `team init`); None for a login outside the team."""
    if not has_team(db):
        return Role.ADMINISTRATOR
    row = TeamMember.get_or_none(TeamMember.login == login)
    return None if row is None else parse_role(row.role)


def members(db: Database) -> list[Member]:
    query = TeamMember.select().order_by(TeamMember.login)
    return [Member(m.login, m.role, m.changed_by, m.changed_at) for m in query]


def login_exists(db: Database, login: str) -> bool:
    row = db.execute_sql("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone()
    return row is not None


def may_create_roles(db: Database) -> bool:
    row = db.execute_sql(
        "SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    return bool(row and row[0])


def schema_owner(db: Database) -> str | None:
    row = db.execute_sql(
        "SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'write'"
    ).fetchone()
    return None if row is None else str(row[0])


def add_member(
    db: Database, login: str, role: Role, verifier: str | None, make_login: bool
) -> None:
    db.execute_sql(
        "SELECT public.sophmate_add_member(%s, %s, %s, %s)",
        (login, role.value, verifier, make_login),
    )


def set_role(db: Database, login: str, role: Role) -> None:
    db.execute_sql("SELECT public.sophmate_set_role(%s, %s)", (login, role.value))


def remove_member(db: Database, login: str) -> None:
    db.execute_sql("SELECT public.sophmate_remove_member(%s)", (login,))


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def database_refusal(exc: BaseException) -> PolicyRefused | None:
    """The refusal a PostgreSQL error is when the database said no to a login's role
    (a guard of team_sql, or a privilege the team's grants leave out); else None."""
    for error in _chain(exc):
        if getattr(error, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
            primary = getattr(getattr(error, "diag", None), "message_primary", None)
            text = primary or str(error).strip().splitlines()[0]
            return PolicyRefused(f"the database refused: {text}")
    return None


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802, 7677),
    made here so that the password itself never reaches the server's logs."""
    if not password:
        raise BadInput("the password is empty")
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"
