"""What `team init` installs on PostgreSQL, so that the database itself enforces roles
(DESIGN 10): a psql session on one's own login cannot do what one's role forbids.

- One group role per database, `<database>_team`: every login of the team is a member
  and gets its table privileges through it, but never INSERT, UPDATE or DELETE on
  team_member. Group roles are cluster-wide; naming it after the database keeps two
  databases of one cluster apart.
- Triggers on the state columns, checked against `session_user`'s row in team_member:
  deciding a write (pending -> approved | rejected, a person's retry or mark-applied)
  needs the approver role, and approving one of a workflow one changed last is refused
  while four eyes is on; pausing and resuming switches follow domain/roles.py; every
  audit event names the login (or the engine or policy, which every engine writes as).
- Role changes only through SECURITY DEFINER functions that check that the caller is an
  administrator and that the team keeps one.

The transitions themselves stay where they are (store/transitions/gate.py): these
triggers only refuse, so the update and its audit event remain one transaction and one
way of appending to the chain.

Every function pins its search_path (public first, pg_temp last) and names its tables
with their schema: a temporary table called team_member must not fool a check.
"""

from __future__ import annotations

from peewee import Database
from psycopg import sql

from sophmate_desktop.store import team_edit_sql

# SQLSTATE 42501 insufficient_privilege: store.team turns it into a refusal (exit 3).
_GUARD_WRITE = """
CREATE OR REPLACE FUNCTION public.sophmate_role_of(who text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT role FROM public.team_member WHERE login = who
$$;

-- The login's role when it is `needed` or above (viewer < operator < approver <
-- administrator; the engine's is none of these), else the refusal naming what and who.
CREATE OR REPLACE FUNCTION public.sophmate_require_role(needed text, what text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
DECLARE
    ladder text[] := ARRAY['viewer', 'operator', 'approver', 'administrator'];
    r text := public.sophmate_role_of(session_user);
BEGIN
    IF coalesce(array_position(ladder, r), 0) < array_position(ladder, needed) THEN
        RAISE EXCEPTION '% needs the % role; % is %', what, needed, session_user,
            coalesce(r, 'not in the team') USING ERRCODE = '42501';
    END IF;
    RETURN r;
END $$;

CREATE OR REPLACE FUNCTION public.sophmate_guard_write() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    who text := session_user;
    four_eyes text;
BEGIN
    IF NEW.status = OLD.status THEN
        RETURN NEW;
    END IF;
    IF NOT ((OLD.status = 'pending' AND NEW.status IN ('approved', 'rejected'))
            OR (OLD.status IN ('interrupted', 'failed') AND NEW.status IN ('approved', 'applied')))
    THEN
        RETURN NEW;  -- the engine's moves (applying, applied, failed...)
    END IF;
    PERFORM public.sophmate_require_role('approver', 'deciding writes');
    IF NEW.decided_by IS DISTINCT FROM who THEN
        RAISE EXCEPTION 'a decision by % must be recorded as decided by %', who, who
            USING ERRCODE = '42501';
    END IF;
    IF OLD.status = 'pending' AND NEW.status = 'approved' THEN
        SELECT value INTO four_eyes FROM public.setting WHERE key = 'four_eyes';
        IF coalesce(four_eyes, '"auto"') <> 'false' AND EXISTS (
            SELECT 1 FROM public.workflow w
            WHERE w.id = NEW.workflow_id AND lower(w.updated_by) = lower(who)
        ) THEN
            RAISE EXCEPTION 'four-eyes rule: % changed the workflow of write % last; '
                'another person must approve', who, NEW.id USING ERRCODE = '42501';
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION public.sophmate_guard_approval() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    who text := session_user;
BEGIN
    PERFORM public.sophmate_require_role('approver', 'approving writes');
    IF NEW.approver IS DISTINCT FROM who THEN
        RAISE EXCEPTION 'an approval by % must name %', who, who USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION public.sophmate_guard_switch() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    who text := session_user;
    r text := public.sophmate_role_of(session_user);
    owner text := to_jsonb(NEW) ->> 'owner';  -- only a workflow has one
    own boolean := owner IS NOT NULL AND lower(owner) = lower(session_user);
BEGIN
    IF NEW.paused = OLD.paused THEN
        RETURN NEW;
    END IF;
    IF NEW.paused THEN
        -- a pause by policy may come from whichever login runs the engine
        IF NEW.paused_by = 'policy' OR r IN ('administrator', 'engine')
           OR own OR (TG_TABLE_NAME <> 'workflow' AND r IN ('operator', 'approver')) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'pausing this needs the operator role (a workflow: its owner or an '
            'administrator); % is %', who, coalesce(r, 'not in the team')
            USING ERRCODE = '42501';
    END IF;
    IF r = 'administrator' OR (own AND r IN ('operator', 'approver')) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'resuming this needs the administrator role (a workflow: its owner, '
        'an operator); % is %', who, coalesce(r, 'not in the team') USING ERRCODE = '42501';
END $$;

-- A row this transaction wrote: visible, and its transaction still in progress (the
-- uncommitted rows of others are not visible); xmin is 32 bits, put in this epoch.
CREATE OR REPLACE FUNCTION public.sophmate_written_now(row_xmin xid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
    SELECT row_xmin::text::bigint <= now_xid % 4294967296
       AND pg_xact_status(((now_xid / 4294967296) * 4294967296
                           + row_xmin::text::bigint)::text::xid8) = 'in progress'
    FROM (SELECT pg_current_xact_id()::text::bigint AS now_xid) AS x
$$;

-- At commit: a decision or a role change made by this transaction has its audit event,
-- appended by this transaction, so psql cannot leave the chain out.
CREATE OR REPLACE FUNCTION public.sophmate_decision_audited() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM public.audit_event a
        WHERE a.subject = 'write ' || NEW.id AND a.action IN ('write.approved', 'write.rejected')
          AND a.action = 'write.' || NEW.status AND a.actor = session_user
          AND public.sophmate_written_now(a.xmin)
    ) THEN
        RAISE EXCEPTION 'write % was % without its audit event in the same transaction',
            NEW.id, NEW.status USING ERRCODE = '42501';
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION public.sophmate_role_change_audited() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    who text := CASE WHEN TG_OP = 'DELETE' THEN OLD.login ELSE NEW.login END;
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM public.audit_event a
        WHERE a.action IN ('team.initialized', 'team.member_added', 'team.role_changed',
                           'team.member_removed')
          AND (a.subject = who OR a.action = 'team.initialized')
          AND a.actor = session_user AND public.sophmate_written_now(a.xmin)
    ) THEN
        RAISE EXCEPTION 'the role of % was changed without its audit event in the same '
            'transaction', who USING ERRCODE = '42501';
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION public.sophmate_guard_audit() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF NEW.actor IS DISTINCT FROM session_user AND NEW.actor NOT IN ('engine', 'policy') THEN
        RAISE EXCEPTION 'an audit event by % must name %, not %', session_user, session_user,
            NEW.actor USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END $$;
"""

_TRIGGERS = (
    ("sophmate_guard_write", '"write"', "BEFORE UPDATE OF status", "sophmate_guard_write"),
    ("sophmate_guard_approval", "write_approval", "BEFORE INSERT", "sophmate_guard_approval"),
    ("sophmate_guard_switch", "category", "BEFORE UPDATE OF paused", "sophmate_guard_switch"),
    ("sophmate_guard_switch", "switch", "BEFORE UPDATE OF paused", "sophmate_guard_switch"),
    ("sophmate_guard_switch", "workflow", "BEFORE UPDATE OF paused", "sophmate_guard_switch"),
    ("sophmate_guard_audit", "audit_event", "BEFORE INSERT", "sophmate_guard_audit"),
)

# {team} is the group role; the functions run as the login that ran `team init`, which
# has CREATEROLE (checked before) and so may create logins and grant the group.
_MEMBERS = """
CREATE OR REPLACE FUNCTION public.sophmate_require_admin() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM public.sophmate_require_role('administrator', 'changing roles');
END $$;

CREATE OR REPLACE FUNCTION public.sophmate_keep_an_admin(leaving text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM public.team_member
                   WHERE role = 'administrator' AND login <> leaving) THEN
        RAISE EXCEPTION '% is the last administrator: make another login administrator first',
            leaving USING ERRCODE = '42501';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION public.sophmate_add_member(
    who text, new_role text, verifier text, make_login boolean
) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM public.sophmate_require_admin();
    IF make_login THEN
        IF verifier IS NULL THEN
            EXECUTE format('CREATE ROLE %I LOGIN', who);
        ELSE
            EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', who, verifier);
        END IF;
    END IF;
    EXECUTE format('GRANT %I TO %I', {team_literal}, who);
    INSERT INTO public.team_member (login, role, changed_by, changed_at)
    VALUES (who, new_role, session_user, now() AT TIME ZONE 'UTC');
END $$;

CREATE OR REPLACE FUNCTION public.sophmate_set_role(who text, new_role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM public.sophmate_require_admin();
    IF new_role <> 'administrator' THEN
        PERFORM public.sophmate_keep_an_admin(who);
    END IF;
    UPDATE public.team_member
    SET role = new_role, changed_by = session_user, changed_at = now() AT TIME ZONE 'UTC'
    WHERE login = who;
END $$;

CREATE OR REPLACE FUNCTION public.sophmate_remove_member(who text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM public.sophmate_require_admin();
    PERFORM public.sophmate_keep_an_admin(who);
    DELETE FROM public.team_member WHERE login = who;
    EXECUTE format('REVOKE %I FROM %I', {team_literal}, who);
END $$;
"""

_MEMBER_FUNCTIONS = (
    "sophmate_add_member(text, text, text, boolean)",
    "sophmate_set_role(text, text)",
    "sophmate_remove_member(text)",
)


# The only tables the program deletes rows from; no login deletes from the others.
_DELETED_FROM = ("engine_instance", "engine_process", "schedule_state", "secret_ref", "setting")


def team_role_name(db: Database) -> str:
    """The group role of this database's team."""
    return f"{db.database}_team"[:63]


def install(db: Database) -> None:
    """Create (or bring up to date) the group role, grants, guards and functions; run
    inside a transaction by a login with CREATEROLE that owns the schema."""
    team = team_role_name(db)
    exists = db.execute_sql("SELECT 1 FROM pg_roles WHERE rolname = %s", (team,)).fetchone()
    if not exists:
        _run(db, sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(team)))
    _grant(db, team)
    _run(db, _GUARD_WRITE)
    _run(db, team_edit_sql.GUARDS)
    triggers = [(*row, None) for row in _TRIGGERS] + list(team_edit_sql.TRIGGERS)
    for name, table, when, function, condition in triggers:
        db.execute_sql(f"DROP TRIGGER IF EXISTS {name} ON public.{table}")
        only = f"WHEN ({condition}) " if condition else ""
        db.execute_sql(
            f"CREATE TRIGGER {name} {when} ON public.{table} "
            f"FOR EACH ROW {only}EXECUTE FUNCTION public.{function}()"
        )
    db.execute_sql('DROP TRIGGER IF EXISTS sophmate_decision_audited ON public."write"')
    db.execute_sql(
        "CREATE CONSTRAINT TRIGGER sophmate_decision_audited "
        'AFTER UPDATE OF status ON public."write" '
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        "WHEN (OLD.status = 'pending' AND NEW.status IN ('approved', 'rejected')) "
        "EXECUTE FUNCTION public.sophmate_decision_audited()"
    )
    db.execute_sql("DROP TRIGGER IF EXISTS sophmate_role_change_audited ON public.team_member")
    db.execute_sql(
        "CREATE CONSTRAINT TRIGGER sophmate_role_change_audited "
        "AFTER INSERT OR UPDATE OR DELETE ON public.team_member "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        "EXECUTE FUNCTION public.sophmate_role_change_audited()"
    )
    _run(db, _MEMBERS.replace("{team_literal}", _literal(team)))
    for signature in _MEMBER_FUNCTIONS:
        db.execute_sql(f"REVOKE ALL ON FUNCTION public.{signature} FROM PUBLIC")
        _run(
            db,
            sql.SQL("GRANT EXECUTE ON FUNCTION public.{} TO {}").format(
                sql.SQL(signature), sql.Identifier(team)
            ),
        )


def _grant(db: Database, team: str) -> None:
    role = sql.Identifier(team)
    statements = [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(db.database), role),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role),
        sql.SQL("REVOKE DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public FROM {}").format(role),
        sql.SQL("GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {}").format(role),
        sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}").format(role),
        sql.SQL("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON public.team_member FROM {}").format(
            role
        ),
        # the trail is appended to, never edited: verify finds what a login could not do
        sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON public.audit_event FROM {}").format(role),
        sql.SQL("GRANT DELETE ON {} TO {}").format(
            sql.SQL(", ").join(sql.Identifier("public", t) for t in _DELETED_FROM), role
        ),
        # tables of a later migration, made by this login: `team init` again narrows them
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
            "GRANT SELECT, INSERT, UPDATE ON TABLES TO {}"
        ).format(role),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {}"
        ).format(role),
    ]
    for statement in statements:
        _run(db, statement)


def _run(db: Database, statement: sql.Composable | str) -> None:
    """Without parameters: psycopg then reads no placeholders (the functions hold '%')."""
    db.cursor().execute(statement)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
