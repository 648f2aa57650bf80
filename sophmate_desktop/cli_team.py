"""`team init` and `team user add|list|set-role|remove`: a team on PostgreSQL (README,
"A team on PostgreSQL"). The handlers are thin: the console checks and audits."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from sophmate_desktop import cli_format as fmt
from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.roles import PERSON_ROLES, Role
from sophmate_desktop.secrets import DB_LOGIN_SECRET, SecretMissing

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

MEMBER_COLUMNS = (
    fmt.col("login"),
    fmt.col("role"),
    fmt.col("changed by", "changed_by"),
    fmt.Column("changed at", lambda m: fmt.iso_minute(m.changed_at)),
)


def cmd_team_init(c: Console, a: argparse.Namespace) -> str:
    done = c.team_init()
    if a.json:
        return fmt.to_json(
            {"group": done.group, "administrator": done.administrator, "first": done.first}
        )
    if done.first:
        return (
            f"team set up: group role {done.group}, {done.administrator} is administrator; "
            "add people with `team user add NAME --role ROLE`"
        )
    return f"team of group role {done.group} brought up to date (grants and guards)"


def _password_from_keyring(c: Console, login: str) -> str:
    name = DB_LOGIN_SECRET.format(login=login)
    try:
        return c.secrets.get(name)
    except SecretMissing:
        raise BadInput(
            f"--password-from-keyring: no secret {name!r} in this keyring; store it first "
            f"with `secret set {name}` (the password on stdin)"
        ) from None


def cmd_team_user_add(c: Console, a: argparse.Namespace) -> str:
    password = _password_from_keyring(c, a.name) if a.password_from_keyring else None
    member = c.team_add(a.name, a.role, password=password, no_password=a.no_password)
    if a.json:
        return fmt.rows_json([member])
    return f"{member.login} added to the team as {member.role}"


def cmd_team_user_list(c: Console, a: argparse.Namespace) -> str:
    rows = c.team_members()
    if a.json:
        return fmt.rows_json(rows)
    return fmt.table_or(rows, MEMBER_COLUMNS, "No team on this database yet: run `team init`.")


def cmd_team_user_set_role(c: Console, a: argparse.Namespace) -> str:
    member = c.team_set_role(a.name, a.role)
    if a.json:
        return fmt.rows_json([member])
    return f"{member.login} is {member.role}"


def cmd_team_user_remove(c: Console, a: argparse.Namespace) -> str:
    before = c.team_remove(a.name)
    if a.json:
        return fmt.to_json({"login": a.name, "was": before})
    return f"{a.name} ({before}) is no longer in the team; the login itself is kept"


ROLE_HELP = (
    "viewer, operator (edit, run, pause own workflows), approver (decide writes), "
    "administrator (roles, settings, resume everything) or engine (the engine's login)"
)


def add_commands(sub: Any, leaf: Any) -> None:
    g = sub.add_parser("team", help="PostgreSQL: the team's logins and roles")
    g = g.add_subparsers(dest="action", metavar="ACTION", required=True)
    text = "create the group role, grants and guards; you become administrator (idempotent)"
    leaf(g, "init", cmd_team_init, text, json_flag=True)
    u = g.add_parser("user", help="the people of the team and their roles")
    u = u.add_subparsers(dest="user_action", metavar="ACTION", required=True)
    roles = [r.value for r in (*PERSON_ROLES, Role.ENGINE)]
    text = "add a login with a role (the login is created if new)"
    p = leaf(u, "add", cmd_team_user_add, text, json_flag=True)
    p.add_argument("name", metavar="NAME", help="the database login")
    p.add_argument("--role", required=True, choices=roles, metavar="R", help=ROLE_HELP)
    how = p.add_mutually_exclusive_group()
    how.add_argument(
        "--password-from-keyring",
        action="store_true",
        help=f"a new login's password: the secret {DB_LOGIN_SECRET.format(login='NAME')}",
    )
    how.add_argument(
        "--no-password", action="store_true", help="a new login without one (peer or GSS)"
    )
    leaf(u, "list", cmd_team_user_list, "the team's logins and roles", json_flag=True)
    p = leaf(u, "set-role", cmd_team_user_set_role, "change a login's role", json_flag=True)
    p.add_argument("name", metavar="NAME")
    p.add_argument("role", choices=roles, metavar="R", help=ROLE_HELP)
    p = leaf(u, "remove", cmd_team_user_remove, "take a login out of the team", json_flag=True)
    p.add_argument("name", metavar="NAME")
