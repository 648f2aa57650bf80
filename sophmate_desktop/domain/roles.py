"""Who may do what in a team (DESIGN 10): the four roles, a ladder, and the engine.

viewer < operator < approver < administrator: each role may do what the ones below it
may. An operator edits and runs workflows and pauses the ones it owns; an approver
also decides writes; an administrator also grants roles, changes settings and resumes
everything. The engine's login is none of these: it applies approved writes and
pauses by policy, and never decides a write.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    APPROVER = "approver"
    ADMINISTRATOR = "administrator"
    ENGINE = "engine"


PERSON_ROLES = (Role.VIEWER, Role.OPERATOR, Role.APPROVER, Role.ADMINISTRATOR)
_RANK = {role: rank for rank, role in enumerate(PERSON_ROLES, start=1)}
ROLE_NAMES = ", ".join(r.value for r in Role)


def parse_role(text: str) -> Role | None:
    """The role named by `text` (any case), or None."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        return None


def allows(role: Role | None, needed: Role) -> bool:
    """Whether a person with `role` may do what needs `needed` (the engine only what
    needs the engine)."""
    if role is None:
        return False
    if role is Role.ENGINE or needed is Role.ENGINE:
        return role is needed
    return _RANK[role] >= _RANK[needed]


def role_refusal(login: str, role: Role | None, needed: Role, what: str) -> str:
    """The one text of a refusal, for the command line and the window alike."""
    has = f"{login} is {_article(role.value)} {role.value}" if role else f"{login} has no role"
    return f"{what} needs the {needed.value} role; {has} (an administrator can change that)"


def switch_needs(role: Role | None, *, pausing: bool, workflow: bool, owns: bool) -> Role | None:
    """The role a pause or resume needs that `role` lacks; None: allowed. Pausing is
    the safe direction: an operator pauses a category, an effect or everything, the
    owner of a workflow pauses it; resuming is the administrator's, or an operator's
    for a workflow it owns. The engine pauses by policy and never resumes."""
    if role is Role.ENGINE:
        return None if pausing else Role.ADMINISTRATOR
    if allows(role, Role.ADMINISTRATOR):
        return None
    if pausing:
        if workflow:
            return None if owns else Role.ADMINISTRATOR
        return None if allows(role, Role.OPERATOR) else Role.OPERATOR
    if workflow and owns and allows(role, Role.OPERATOR):
        return None
    return Role.ADMINISTRATOR


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def on_behalf(name: str, os_user: str) -> str:
    """The actor of a command run with --actor NAME on one desktop: who it acts as
    and who really ran it ("as nightly-script by alice")."""
    name = name.strip()
    if not name or name == os_user:
        return os_user
    return f"as {name} by {os_user}"


def person_of(actor: str | None) -> str:
    """The person behind an actor: the OS user of "as NAME by USER", else the actor."""
    text = (actor or "").strip()
    head, sep, user = text.rpartition(" by ")
    return user if sep and head.startswith("as ") and user else text
