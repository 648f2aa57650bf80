"""More of what `team init` installs (store/team_sql.py has the rest): the database
refuses, whoever sends the statement, psql included,

- a change to a workflow (its definition, name, owner, category, stage, enabled) by a
  login below operator, or recorded as made by someone else (four eyes reads who
  changed it last);
- turning off the approval of customer-facing writes (`customer_facing_override`) by
  anyone but an administrator;
- a manual run started by a login below operator;
- a new write that skips the inbox: a write is created planned or pending, or approved
  by the approval gate only where the gate may let it pass (never for a dry run, a
  gate that is `always`, a customer-facing write without the override or one drafted
  by an AI); how many clean runs relaxed a gate stays the engine's to count;
- the approval that completes a write needing several people without the approvals of
  the others recorded (`approval.approvers`, the `customer_facing_approvers` setting).

Like the others, these triggers only refuse; the program's own statements pass them.
"""

from __future__ import annotations

GUARDS = """
CREATE OR REPLACE FUNCTION public.sophmate_override_of(definition text) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = public, pg_temp AS $$
    SELECT coalesce((definition::jsonb -> 'approval' ->> 'customer_facing_override')::boolean,
                    false)
$$;

CREATE OR REPLACE FUNCTION public.sophmate_guard_workflow_edit() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    who text := session_user;
    was_override boolean := false;
    authored boolean := true;  -- what it is changed (enabling and promoting are not)
BEGIN
    IF TG_OP = 'UPDATE' THEN
        authored := (NEW.name, NEW.category_id, NEW.owner, NEW.description, NEW.definition,
                     NEW.revision, NEW.updated_by)
            IS DISTINCT FROM (OLD.name, OLD.category_id, OLD.owner, OLD.description,
                              OLD.definition, OLD.revision, OLD.updated_by);
        IF NOT authored AND (NEW.stage, NEW.enabled) IS NOT DISTINCT FROM (OLD.stage, OLD.enabled)
        THEN
            RETURN NEW;  -- the engine's bookkeeping (failures, the gate, plugins), a pause
        END IF;
        was_override := public.sophmate_override_of(OLD.definition);
    END IF;
    PERFORM public.sophmate_require_role('operator', 'changing workflows');
    -- four eyes reads who changed a workflow last: a change names its author
    IF authored AND NEW.updated_by IS DISTINCT FROM who THEN
        RAISE EXCEPTION 'a change to workflow % by % must be recorded as made by %',
            NEW.name, who, who USING ERRCODE = '42501';
    END IF;
    IF public.sophmate_override_of(NEW.definition) AND NOT was_override THEN
        PERFORM public.sophmate_require_role(
            'administrator', 'turning off the approval of customer-facing writes');
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION public.sophmate_guard_new_write() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    gate jsonb;
    run_mode text;
BEGIN
    IF NEW.status IN ('planned', 'pending') THEN
        RETURN NEW;
    END IF;
    IF NEW.status IS DISTINCT FROM 'approved' OR NEW.decided_by IS DISTINCT FROM 'policy:gate'
    THEN
        RAISE EXCEPTION 'a new write is planned, pending or approved by the approval gate, '
            'not % by %', NEW.status, coalesce(NEW.decided_by, 'nobody')
            USING ERRCODE = '42501';
    END IF;
    SELECT w.definition::jsonb -> 'approval' INTO gate
    FROM public.workflow w WHERE w.id = NEW.workflow_id;
    SELECT r.mode INTO run_mode FROM public.run r WHERE r.id = NEW.run_id;
    IF run_mode IS DISTINCT FROM 'dry_run' AND gate IS NOT NULL
       AND coalesce(gate ->> 'mode', 'always') = 'until_reviewed'
       AND NOT (NEW.customer_facing AND (NEW.ai_drafted OR NOT coalesce(
           (gate ->> 'customer_facing_override')::boolean, false))) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'write % of run % may not skip the inbox: its approval gate holds it',
        NEW.seq, NEW.run_id USING ERRCODE = '42501';
END $$;

CREATE OR REPLACE FUNCTION public.sophmate_guard_manual_run() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM public.sophmate_require_role('operator', 'running workflows');
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION public.sophmate_approvers_needed(write_id integer) RETURNS integer
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
    SELECT greatest(
        1,
        coalesce((wf.definition::jsonb -> 'approval' ->> 'approvers')::integer, 1),
        CASE WHEN w.customer_facing THEN coalesce(
            (SELECT s.value::jsonb #>> '{}' FROM public.setting s
             WHERE s.key = 'customer_facing_approvers')::integer, 1) ELSE 1 END
    )
    FROM public."write" w JOIN public.workflow wf ON wf.id = w.workflow_id
    WHERE w.id = write_id
$$;

CREATE OR REPLACE FUNCTION public.sophmate_guard_approvers() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    needed integer := public.sophmate_approvers_needed(NEW.id);
    given integer;
BEGIN
    IF needed <= 1 THEN
        RETURN NEW;
    END IF;
    SELECT count(DISTINCT lower(a.approver)) INTO given FROM public.write_approval a
    WHERE a."write" = NEW.id AND lower(a.approver) <> lower(NEW.decided_by);
    IF given + 1 < needed THEN
        RAISE EXCEPTION 'write % needs % approvers; % approved it before %', NEW.id, needed,
            given, NEW.decided_by USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END $$;
"""

TRIGGERS = (
    (
        "sophmate_guard_workflow_edit",
        "workflow",
        "BEFORE INSERT OR UPDATE",
        "sophmate_guard_workflow_edit",
        None,
    ),
    ("sophmate_guard_new_write", '"write"', "BEFORE INSERT", "sophmate_guard_new_write", None),
    # a file's or a schedule's run is the engine's (whoever's desktop runs it); a person's
    # run (manual, and its retry or replay) is an operator's
    (
        "sophmate_guard_manual_run",
        "run",
        "BEFORE INSERT",
        "sophmate_guard_manual_run",
        "NEW.trigger_kind = 'manual'",
    ),
    (
        "sophmate_guard_approvers",
        '"write"',
        "BEFORE UPDATE OF status",
        "sophmate_guard_approvers",
        "OLD.status = 'pending' AND NEW.status = 'approved'",
    ),
)
