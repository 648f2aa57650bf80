"""A team on PostgreSQL (issue 13, items 1-2): who acts is the login, and the roles hold
at the command line (exit 3) and at the database itself (psql on one's own login).

Every login is made by `team user add` (or as a DBA would, `PgTeam.create`), with its
password in the keyring, and connects with a URL that names no password."""

from __future__ import annotations

import psycopg
import pytest

from sophmate_desktop import app
from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import AuditEvent, TeamMember, Write
from tests.support.cli import REPORTS, Cli, add_run, os_user
from tests.support.team import add, refused_in_psql

pytestmark = pytest.mark.postgres

APPROVE = "UPDATE \"write\" SET status = 'approved', decided_by = %s WHERE id = %s"


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id))


def reopen(url: str):
    return open_database(url)


def test_team_init_is_idempotent_and_makes_the_owner_administrator(owner, pg_team) -> None:
    again = owner("team", "init")
    assert again.code == 0, again.err
    assert "brought up to date" in again.out
    listed = owner("team", "user", "list", "--json").json()
    assert [(m["login"], m["role"]) for m in listed] == [("sophmate", "administrator")]
    db = reopen(pg_team.admin_url)
    try:
        [init] = events("team.initialized")  # once, however often it runs
        assert init.actor == "sophmate"
        assert init.details == {"group": f"{pg_team.database}_team", "administrator": "sophmate"}
    finally:
        db.close()


def test_team_init_refuses_a_login_that_may_not_create_roles(owner, pg_team) -> None:
    login, lead = add(owner, pg_team, "lead", "administrator")
    before = owner("audit", "list", "--json").json()
    done = lead("team", "init")
    assert done.code == 2
    assert f"the login {login} may not create roles (CREATEROLE)" in done.err
    assert owner("audit", "list", "--json").json() == before  # nothing half-written


def test_team_init_on_sqlite_says_a_team_needs_postgresql(sqlite_url, capsys) -> None:
    cli = Cli(sqlite_url, capsys)
    assert cli("init").code == 0
    done = cli("team", "init")
    assert done.code == 2
    assert "this database is SQLite" in done.err


def test_user_add_set_role_and_remove_are_audited_and_each_has_a_way_out(owner, pg_team) -> None:
    login, ana = add(owner, pg_team, "ana", "approver")
    assert ana("inbox", "list").code == 0  # her password came from the keyring
    assert owner("team", "user", "set-role", login, "operator").code == 0
    assert owner("team", "user", "set-role", login, "operator").code == 0  # no change
    listed = {m["login"]: m["role"] for m in owner("team", "user", "list", "--json").json()}
    assert listed == {"sophmate": "administrator", login: "operator"}
    removed = owner("team", "user", "remove", login)
    assert removed.code == 0, removed.err
    assert login not in owner("team", "user", "list").out
    gone = ana("inbox", "list")  # out of the team: no privileges left on its tables
    assert gone.code == 3
    assert f"the login {login} may not read this database's tables" in gone.err
    db = reopen(pg_team.admin_url)
    try:
        trail = [
            (e.action, e.subject, e.actor, e.details)
            for e in AuditEvent.select().where(AuditEvent.action.startswith("team.member"))
            | AuditEvent.select().where(AuditEvent.action == "team.role_changed")
        ]
        assert sorted(trail) == sorted(
            [
                (
                    "team.member_added",
                    login,
                    "sophmate",
                    {"role": "approver", "login_created": True, "password": "set"},
                ),
                ("team.role_changed", login, "sophmate", {"from": "approver", "to": "operator"}),
                ("team.member_removed", login, "sophmate", {"role": "operator"}),
            ]
        )
    finally:
        db.close()
    back = owner("team", "user", "add", login, "--role", "viewer")  # the login exists
    assert back.code == 0, back.err


def test_user_add_says_what_is_missing(owner, pg_team) -> None:
    new = pg_team.login("nopw")
    done = owner("team", "user", "add", new, "--role", "viewer")
    assert done.code == 2
    assert "give --password-from-keyring, or --no-password" in done.err
    done = owner("team", "user", "add", new, "--role", "chief")
    assert done.code == 2
    assert "--role" in done.err
    done = owner("team", "user", "add", new, "--role", "viewer", "--password-from-keyring")
    assert done.code == 2
    assert f"no secret 'db-login-{new}' in this keyring" in done.err
    done = owner("team", "user", "add", "Bad Name", "--role", "viewer", "--no-password")
    assert done.code == 2
    assert "login 'Bad Name'" in done.err
    assert [m["login"] for m in owner("team", "user", "list", "--json").json()] == ["sophmate"]


def test_the_last_administrator_stays(owner, pg_team) -> None:
    done = owner("team", "user", "set-role", "sophmate", "viewer")
    assert done.code == 3
    assert "last administrator" in done.err
    assert owner("team", "user", "remove", "sophmate").code == 3


def test_a_non_administrator_cannot_grant_neither_here_nor_in_psql(owner, pg_team) -> None:
    ana, ana_cli = add(owner, pg_team, "ana", "approver")
    bo, _ = add(owner, pg_team, "bo", "viewer")
    done = ana_cli("team", "user", "set-role", bo, "administrator")
    assert done.code == 3
    assert f"changing roles needs the administrator role; {ana} is an approver" in done.err
    grant = "SELECT sophmate_set_role(%s, 'administrator')"
    refused_in_psql(pg_team, ana, grant, (bo,), "administrator role")
    update = "UPDATE team_member SET role = 'administrator' WHERE login = %s"
    refused_in_psql(pg_team, ana, update, (bo,), "permission denied")
    insert = "INSERT INTO team_member VALUES (%s, 'administrator', %s, now())"
    refused_in_psql(pg_team, ana, insert, (ana, ana), "permission denied")
    # an administrator with psql cannot leave the audit trail out of a role change
    lead, _ = add(owner, pg_team, "lead", "administrator")
    refused_in_psql(pg_team, lead, grant, (bo,), "without its audit event")
    db = reopen(pg_team.admin_url)
    try:
        assert TeamMember.get_by_id(bo).role == "viewer"
        assert events("team.role_changed") == []
    finally:
        db.close()


@pytest.fixture
def pending(owner, pg_team) -> tuple[int, str]:
    """A pending write of report-archive, which the lead (an administrator) imported."""
    lead, lead_cli = add(owner, pg_team, "lead", "administrator")
    assert lead_cli("workflow", "import", REPORTS).code == 0
    _, [write_id] = add_run(pg_team.admin_url, "report-archive", writes=1)
    return write_id, lead


def test_a_login_without_the_approver_role_cannot_approve(owner, pg_team, pending) -> None:
    write_id, _ = pending
    bo, bo_cli = add(owner, pg_team, "bo", "operator")
    done = bo_cli("inbox", "approve", write_id)
    assert done.code == 3
    assert f"approving writes needs the approver role; {bo} is an operator" in done.err
    assert bo_cli("inbox", "reject", write_id, "--comment", "no").code == 3
    # psql on her own login: the database refuses
    refused_in_psql(pg_team, bo, APPROVE, (bo, write_id), "approver role")
    reject = "UPDATE \"write\" SET status = 'rejected', decided_by = %s WHERE id = %s"
    refused_in_psql(pg_team, bo, reject, (bo, write_id), "approver role")
    partial = "INSERT INTO write_approval (write, approver, at) VALUES (%s, %s, now())"
    refused_in_psql(pg_team, bo, partial, (write_id, bo), "approver role")
    db = reopen(pg_team.admin_url)
    try:
        assert Write.get_by_id(write_id).status == "pending"
    finally:
        db.close()


def test_four_eyes_holds_at_the_database(owner, pg_team, pending) -> None:
    write_id, lead = pending  # the lead changed report-archive last
    lead_cli = Cli(pg_team.url(lead), owner.capsys)
    done = lead_cli("inbox", "approve", write_id)
    assert done.code == 3
    assert "four-eyes rule" in done.err
    refused_in_psql(pg_team, lead, APPROVE, (lead, write_id), "four-eyes rule")
    ana, ana_cli = add(owner, pg_team, "ana", "approver")
    # nor in another's name
    refused_in_psql(pg_team, ana, APPROVE, ("bo", write_id), "decided by")
    # nor, as an approver, without the audit event (the chain would miss the decision)
    refused_in_psql(pg_team, ana, APPROVE, (ana, write_id), "without its audit event")
    done = ana_cli("inbox", "approve", write_id, "--json")
    assert done.code == 0, done.err
    db = reopen(pg_team.admin_url)
    try:
        assert Write.get_by_id(write_id).decided_by == ana
        [approved] = events("write.approved")
        assert approved.actor == ana
    finally:
        db.close()
    assert owner("audit", "verify").code == 0


def test_the_actor_of_every_audit_row_is_the_login(owner, pg_team) -> None:
    ana, ana_cli = add(owner, pg_team, "ana", "operator")
    assert ana_cli("workflow", "import", REPORTS).code == 0
    assert ana_cli("category", "pause", "reporting", "--reason", "checking").code == 0
    db = reopen(pg_team.admin_url)
    try:
        actions = ["workflow.imported", "category.paused"]
        mine = AuditEvent.select().where(AuditEvent.action.in_(actions))
        assert {e.actor for e in mine} == {ana}
        (session_user,) = db.execute_sql("SELECT session_user").fetchone()
        assert session_user == "sophmate"
    finally:
        db.close()
    forged = (  # an event in another's name
        "INSERT INTO audit_event (at, actor, action, subject, details, prev_hash, hash) "
        "VALUES ('x', 'sophmate', 'category.resumed', 'reporting', '{}', 'x', 'x')"
    )
    refused_in_psql(pg_team, ana, forged, (), "must name")
    # the trail is appended to, never edited or cut; writes are never deleted
    for statement in (
        "UPDATE audit_event SET reason = 'x'",
        "DELETE FROM audit_event",
        'DELETE FROM "write"',
        "TRUNCATE workflow CASCADE",
    ):
        refused_in_psql(pg_team, ana, statement, (), "permission denied")
    assert owner("audit", "verify").code == 0


def test_actor_is_refused_on_postgresql(owner, pg_team) -> None:
    code = app.main(["--db", pg_team.admin_url, "--actor", "bob", "inbox", "list"])
    captured = owner.capsys.readouterr()
    assert code == 2
    assert "--actor: refused on PostgreSQL" in captured.err
    assert "(sophmate)" in captured.err


def test_actor_on_sqlite_is_audited_as_name_by_os_user(sqlite_url, capsys) -> None:
    def run(*args: str) -> tuple[int, str, str]:
        with os_user("alice"):
            code = app.main(["--db", sqlite_url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    assert run("init")[0] == 0
    assert run("settings", "four-eyes", "on")[0] == 0
    assert run("--actor", "nightly-script", "workflow", "import", str(REPORTS))[0] == 0
    code, out, _ = run("audit", "list", "--action", "workflow.imported")
    assert code == 0
    assert "as nightly-script by alice" in out
    _, [write_id] = add_run(sqlite_url, "report-archive", writes=1)
    # another name does not get past four eyes: alice changed it, as whoever
    code, _, err = run("--actor", "bob", "inbox", "approve", str(write_id))
    assert code == 3
    assert "four-eyes rule" in err


def test_pausing_and_resuming_follow_the_roles(owner, pg_team) -> None:
    _, lead_cli = add(owner, pg_team, "lead", "administrator")
    assert lead_cli("workflow", "import", REPORTS).code == 0
    bo, bo_cli = add(owner, pg_team, "bo", "operator")
    _, vi_cli = add(owner, pg_team, "vi", "viewer")
    done = bo_cli("workflow", "pause", "report-archive", "--reason", "odd output")
    assert done.code == 3
    assert "its owner is reporting-team" in done.err
    assert vi_cli("category", "pause", "reporting", "--reason", "x").code == 3
    assert bo_cli("category", "pause", "reporting", "--reason", "incident").code == 0
    done = bo_cli("category", "resume", "reporting", "--reason", "over")
    assert done.code == 3
    assert f"needs the administrator role; {bo} is an operator" in done.err
    resume = "UPDATE category SET paused = false WHERE name = 'reporting'"
    refused_in_psql(pg_team, bo, resume, (), "administrator role")
    assert lead_cli("category", "resume", "reporting", "--reason", "over").code == 0
    # the owner of a workflow pauses it, and (an operator) resumes it
    db = reopen(pg_team.admin_url)
    try:
        db.execute_sql(
            "UPDATE workflow SET owner = %s, updated_by = current_user WHERE name = %s",
            (bo, "report-archive"),
        )
    finally:
        db.close()
    assert bo_cli("workflow", "pause", "report-archive", "--reason", "mine").code == 0
    assert bo_cli("workflow", "resume", "report-archive", "--reason", "fixed").code == 0


def test_the_engines_login_applies_approved_writes_but_never_decides(
    owner, pg_team, pending
) -> None:
    write_id, _ = pending
    engine, engine_cli = add(owner, pg_team, "engine", "engine")
    done = engine_cli("inbox", "approve", write_id)
    assert done.code == 3
    assert f"approving writes needs the approver role; {engine} is an engine" in done.err
    refused_in_psql(pg_team, engine, APPROVE, (engine, write_id), "approver role")
    _, ana_cli = add(owner, pg_team, "ana", "approver")
    assert ana_cli("inbox", "approve", write_id).code == 0
    with pg_team.connect(engine) as conn:  # what an engine does next: it may
        claimed = conn.execute(
            "UPDATE \"write\" SET status = 'applying', claimed_by = 'e:1' "
            "WHERE id = %s AND status = 'approved' RETURNING id",
            (write_id,),
        ).fetchall()
    assert claimed == [(write_id,)]


def test_a_viewer_reads_and_an_operator_does_not_change_settings(owner, pg_team) -> None:
    _, lead_cli = add(owner, pg_team, "lead", "administrator")
    assert lead_cli("workflow", "import", REPORTS).code == 0
    vi, vi_cli = add(owner, pg_team, "vi", "viewer")
    assert vi_cli("workflow", "list").code == 0
    assert vi_cli("inbox", "list").code == 0
    assert vi_cli("audit", "list").code == 0
    for args, needs in (
        (("workflow", "import", REPORTS), "changing workflows needs the operator"),
        (("workflow", "run", "report-archive"), "running workflows needs the operator"),
        (("workflow", "enable", "report-archive"), "enabling workflows needs the operator"),
    ):
        done = vi_cli(*args)
        assert done.code == 3, args
        assert f"{needs} role; {vi} is a viewer" in done.err
    bo, bo_cli = add(owner, pg_team, "bo", "operator")
    done = bo_cli("settings", "four-eyes", "off")
    assert done.code == 3
    assert f"changing settings needs the administrator role; {bo} is an operator" in done.err
    for args in (("settings", "plan-timeout", "10"), ("category", "budget", "reporting",
                 "--per-day", "5"), ("audit", "checkpoint-mirror", "/tmp")):  # fmt: skip
        done = bo_cli(*args)
        assert done.code == 3, args
        assert "changing settings needs the administrator role" in done.err
    assert lead_cli("settings", "four-eyes", "on").code == 0
    assert lead_cli("settings", "plan-timeout", "10").code == 0


def test_a_console_that_checks_no_roles_is_still_refused_by_the_database(
    owner, pg_team, pending, monkeypatch
) -> None:
    """As an older program that knows nothing of roles would be: the database says no,
    and the command line says what it said, as a refusal (exit 3)."""
    from sophmate_desktop.console.core import ConsoleCore

    write_id, _ = pending
    bo, bo_cli = add(owner, pg_team, "bo", "operator")
    monkeypatch.setattr(ConsoleCore, "require_role", lambda *a, **k: None)
    done = bo_cli("inbox", "approve", write_id)
    assert done.code == 3
    assert "refused: the database refused: deciding writes needs the approver role" in done.err
    assert bo in done.err
    monkeypatch.setattr(ConsoleCore, "require_switch", lambda *a, **k: None)
    assert bo_cli("category", "pause", "reporting", "--reason", "incident").code == 0
    done = bo_cli("category", "resume", "reporting", "--reason", "over")
    assert done.code == 3
    assert "the database refused: resuming this needs the administrator role" in done.err


def test_a_login_for_peer_or_gss_gets_no_password(owner, pg_team) -> None:
    login = pg_team.login("gss")
    done = owner("team", "user", "add", login, "--role", "viewer", "--no-password")
    assert done.code == 0, done.err
    db = reopen(pg_team.admin_url)
    try:
        [added] = events("team.member_added")
        assert added.details == {"role": "viewer", "login_created": True, "password": "none"}
    finally:
        db.close()
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(pg_team.url(login), password="anything", connect_timeout=3)
