"""A team on PostgreSQL: `team init`, and the people with their roles (issue 13).

Only an administrator changes the team; each change is one transaction with its audit
event. The database refuses the same changes by anyone else (store/team_sql.py), so
the checks here say no early and in the product's words, they are not the only ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.domain.roles import ROLE_NAMES, Role, parse_role
from sophmate_desktop.store import team
from sophmate_desktop.store.database import is_sqlite
from sophmate_desktop.store.models import TeamMember

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

# A login name as `team user add` takes it: what needs no quoting in psql or a URL.
_LOGIN_RE = re.compile(r"[a-z_][a-z0-9_.-]{0,62}")


@dataclass(frozen=True)
class TeamInit:
    group: str  # the group role every login of the team is a member of
    administrator: str
    first: bool  # False: the team was there; grants and guards were brought up to date


def parse_login(text: str) -> str:
    login = (text or "").strip()
    if not _LOGIN_RE.fullmatch(login):
        raise BadInput(
            f"login {text!r}: use 1 to 63 lower-case letters, digits, '_', '.' or '-', "
            "starting with a letter or '_'"
        )
    return login


def role_named(text: str) -> Role:
    role = parse_role(text or "")
    if role is None:
        raise BadInput(f"--role: {text!r} is not a role; use one of {ROLE_NAMES}")
    return role


class TeamOps:
    def _require_postgres(self: Console, command: str) -> None:
        if is_sqlite(self.db):
            raise BadInput(
                f"{command}: this database is SQLite, used by one desktop; a team shares "
                "a PostgreSQL database (--db postgresql://LOGIN@HOST/DB)"
            )

    def _require_team(self: Console, command: str) -> None:
        self._require_postgres(command)
        if not team.has_team(self.db):
            raise BadInput(f"{command}: this database has no team yet: run `team init` first")

    def team_init(self: Console) -> TeamInit:
        """Create the group role, grants and guards (again: brought up to date) and make
        this login the first administrator. Needs a login with CREATEROLE that owns
        the schema."""
        self._require_postgres("team init")
        if not team.may_create_roles(self.db):
            raise BadInput(
                f"team init: the login {self.actor} may not create roles (CREATEROLE); run it "
                f"as a login that may, or have a superuser run ALTER ROLE {self.actor} CREATEROLE"
            )
        owner = team.schema_owner(self.db)
        if owner != self.actor:
            raise BadInput(
                f"team init: the tables belong to {owner}; run it as {owner} (who must have "
                "CREATEROLE), nothing was changed"
            )
        from sophmate_desktop.store import team_sql  # psycopg: PostgreSQL only

        group = team_sql.team_role_name(self.db)

        with self.transaction():
            first = not team.has_team(self.db)
            team_sql.install(self.db)
            if TeamMember.get_or_none(TeamMember.login == self.actor) is None:
                TeamMember.insert(
                    login=self.actor,
                    role=Role.ADMINISTRATOR.value,
                    changed_by=self.actor,
                    changed_at=utcnow(),
                ).execute()
                self.audit(
                    AuditAction.TEAM_INITIALIZED,
                    subject=group,
                    details={"group": group, "administrator": self.actor},
                )
        return TeamInit(group, self.actor, first)

    def team_members(self: Console) -> list[team.Member]:
        self._require_postgres("team user list")
        return team.members(self.db)

    def _member(self: Console, login: str) -> TeamMember:
        row = TeamMember.get_or_none(TeamMember.login == login)
        if row is None:
            raise BadInput(f"{login} is not in the team (see `team user list`)")
        return row

    def team_add(
        self: Console, name: str, role_text: str, *, password: str | None, no_password: bool
    ) -> team.Member:
        """Add a person (or the engine's login) with a role; a login that does not exist
        yet is created, with the password given (None and `no_password`: peer or GSS
        authentication only)."""
        login, role = parse_login(name), role_named(role_text)
        self._require_team("team user add")
        self.require_role(Role.ADMINISTRATOR, "adding people to the team")
        found = TeamMember.get_or_none(TeamMember.login == login)
        if found is not None:
            raise BadInput(
                f"{login} is in the team already, as {found.role}: use `team user set-role`"
            )
        create = not team.login_exists(self.db, login)
        if not create and password is not None:
            raise BadInput(
                f"the login {login} exists already: its password is not changed here; "
                "leave out --password-from-keyring"
            )
        if create and password is None and not no_password:
            raise BadInput(
                f"{login} is a new login: give --password-from-keyring, or --no-password "
                "for peer or GSS authentication"
            )
        verifier = team.scram_verifier(password) if password is not None else None
        with self.transaction():
            team.add_member(self.db, login, role, verifier, create)
            self.audit(
                AuditAction.TEAM_MEMBER_ADDED,
                subject=login,
                details={
                    "role": role.value,
                    "login_created": create,
                    "password": "set" if verifier else "none",
                },
            )
        return self._as_member(self._member(login))

    def team_set_role(self: Console, name: str, role_text: str) -> team.Member:
        login, role = parse_login(name), role_named(role_text)
        self._require_team("team user set-role")
        self.require_role(Role.ADMINISTRATOR, "changing roles")
        before = self._member(login).role
        if before != role.value:
            with self.transaction():
                team.set_role(self.db, login, role)
                self.audit(
                    AuditAction.TEAM_ROLE_CHANGED,
                    subject=login,
                    details={"from": before, "to": role.value},
                )
        return self._as_member(self._member(login))

    def team_remove(self: Console, name: str) -> str:
        """Take a login out of the team (the login itself stays: a DBA drops it)."""
        login = parse_login(name)
        self._require_team("team user remove")
        self.require_role(Role.ADMINISTRATOR, "removing people from the team")
        before = self._member(login).role
        with self.transaction():
            team.remove_member(self.db, login)
            self.audit(AuditAction.TEAM_MEMBER_REMOVED, subject=login, details={"role": before})
        return before

    @staticmethod
    def _as_member(row: TeamMember) -> team.Member:
        return team.Member(row.login, row.role, row.changed_by, row.changed_at)
