"""A team on PostgreSQL (issue 13, item 2): what the database refuses beyond deciding
writes and switches (store/team_edit_sql.py): changing workflows below operator, an
edit in another's name, turning off customer-facing approval below administrator, a
write that skips the inbox, and the approval that completes a write needing several
people before the others approved. The command line says the same (exit 3)."""

from __future__ import annotations

import pytest

from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import Write
from tests.support.cli import REPORTS, add_run
from tests.support.team import add, refused_in_psql

pytestmark = pytest.mark.postgres

OVERRIDE = REPORTS.read_text().replace(
    "  mode: until_reviewed\n", "  mode: until_reviewed\n  customer_facing_override: true\n"
)
TWO_APPROVERS = REPORTS.read_text().replace(
    "  mode: until_reviewed\n", "  mode: until_reviewed\n  approvers: 2\n"
)
WRITE_COLUMNS = (
    'INSERT INTO "write" (run_id, workflow_id, category, seq, kind, effect, target, '
    "summary, preview, payload, customer_facing, status, decided_by, idempotency_key, "
    "created_at, attempt, cost, ai_drafted) SELECT r.id, r.workflow_id, 'reporting', 99, "
    "'write_file', 'file', '/tmp/x', 'x', 'x', '{}', %s, %s, %s, 'forged-' || r.id, now(), "
    "1, 0, false "
    "FROM run r WHERE r.id = %s"
)


def test_a_viewer_cannot_change_a_workflow_in_psql_nor_an_operator_in_anothers_name(
    owner, pg_team
) -> None:
    lead, lead_cli = add(owner, pg_team, "lead", "administrator")
    assert lead_cli("workflow", "import", REPORTS).code == 0
    vi, _ = add(owner, pg_team, "vi", "viewer")
    for statement in (
        "UPDATE workflow SET enabled = true WHERE name = 'report-archive'",
        "UPDATE workflow SET stage = 'production' WHERE name = 'report-archive'",
        "UPDATE workflow SET definition = jsonb_set(definition::jsonb, "
        "'{approval,reviewed_runs}', '1')::text WHERE name = 'report-archive'",
    ):
        refused_in_psql(pg_team, vi, statement, (), "changing workflows needs the operator role")
    manual_run = (
        "INSERT INTO run (workflow_id, revision, trigger_kind, mode, status, attempt, "
        "queued_at, bytes_read, bytes_written, actions, affected_records, cost, created_by) "
        "SELECT id, revision, 'manual', 'dry_run', 'queued', 1, now(), 0, 0, 0, 0, 0, "
        "current_user FROM workflow WHERE name = 'report-archive'"
    )
    refused_in_psql(pg_team, vi, manual_run, (), "running workflows needs the operator role")
    bo, _ = add(owner, pg_team, "bo", "operator")
    with pg_team.connect(bo) as conn:
        conn.execute(manual_run)
    # four eyes reads who changed a workflow last: nobody may write another's name there
    refused_in_psql(
        pg_team,
        bo,
        "UPDATE workflow SET description = 'mine now', updated_by = %s "
        "WHERE name = 'report-archive'",
        (lead,),
        "must be recorded as made by",
    )
    # a new definition names its author, even when the statement leaves the name out
    refused_in_psql(
        pg_team,
        bo,
        "UPDATE workflow SET definition = jsonb_set(definition::jsonb, "
        "'{approval,reviewed_runs}', '1')::text WHERE name = 'report-archive'",
        (),
        "must be recorded as made by",
    )
    with pg_team.connect(bo) as conn:  # in her own name, an operator may
        conn.execute(
            "UPDATE workflow SET description = 'checked', updated_by = %s "
            "WHERE name = 'report-archive'",
            (bo,),
        )
    with pg_team.connect(bo) as conn:  # enabling keeps the author of the definition
        conn.execute("UPDATE workflow SET enabled = true WHERE name = 'report-archive'")
    with pg_team.connect(vi) as conn:  # the engine's bookkeeping needs no role
        conn.execute(
            "UPDATE workflow SET consecutive_failures = consecutive_failures + 1 "
            "WHERE name = 'report-archive'"
        )


def test_only_an_administrator_turns_off_the_approval_of_customer_facing_writes(
    owner, pg_team, tmp_path
) -> None:
    _, lead_cli = add(owner, pg_team, "lead", "administrator")
    bo, bo_cli = add(owner, pg_team, "bo", "operator")
    relaxed = tmp_path / "report-archive.yaml"
    relaxed.write_text(OVERRIDE)
    done = bo_cli("workflow", "import", relaxed)
    assert done.code == 3
    assert (
        "turning off the approval of customer-facing writes needs the administrator role; "
        f"{bo} is an operator"
    ) in done.err
    assert bo_cli("workflow", "import", REPORTS).code == 0  # without it she may
    turn_off = (
        "UPDATE workflow SET definition = jsonb_set(definition::jsonb, "
        "'{approval,customer_facing_override}', 'true')::text, updated_by = %s "
        "WHERE name = 'report-archive'"
    )
    refused_in_psql(pg_team, bo, turn_off, (bo,), "needs the administrator role")
    done = lead_cli("workflow", "import", relaxed)
    assert done.code == 0, done.err
    assert bo_cli("workflow", "import", relaxed).code == 0  # unchanged: nothing to refuse


def test_no_login_creates_a_write_that_skips_the_inbox(owner, pg_team) -> None:
    _, lead_cli = add(owner, pg_team, "lead", "administrator")
    assert lead_cli("workflow", "import", REPORTS).code == 0
    run_id, _ = add_run(pg_team.admin_url, "report-archive", writes=1)
    ana, _ = add(owner, pg_team, "ana", "approver")
    refused_in_psql(
        pg_team, ana, WRITE_COLUMNS, (False, "approved", ana, run_id), "not approved by"
    )
    refused_in_psql(
        pg_team, ana, WRITE_COLUMNS, (False, "applied", ana, run_id), "not applied by"
    )
    # the gate's own passing only where the gate may let it pass: never customer-facing
    refused_in_psql(
        pg_team,
        ana,
        WRITE_COLUMNS,
        (True, "approved", "policy:gate", run_id),
        "may not skip the inbox",
    )
    with pg_team.connect(ana) as conn:  # what the engine records for a relaxed gate
        conn.execute(WRITE_COLUMNS, (False, "approved", "policy:gate", run_id))


def test_a_write_needing_two_people_is_not_completed_by_one_in_psql(
    owner, pg_team, tmp_path
) -> None:
    _, lead_cli = add(owner, pg_team, "lead", "administrator")
    two = tmp_path / "report-archive.yaml"
    two.write_text(TWO_APPROVERS)
    assert lead_cli("workflow", "import", two).code == 0
    _, [write_id] = add_run(pg_team.admin_url, "report-archive", writes=1)
    ana, ana_cli = add(owner, pg_team, "ana", "approver")
    approve = "UPDATE \"write\" SET status = 'approved', decided_by = %s WHERE id = %s"
    refused_in_psql(pg_team, ana, approve, (ana, write_id), "needs 2 approvers; 0 approved")
    assert ana_cli("inbox", "approve", write_id).code == 0  # recorded: the first of two
    refused_in_psql(pg_team, ana, approve, (ana, write_id), "needs 2 approvers")
    cy, cy_cli = add(owner, pg_team, "cy", "approver")
    done = cy_cli("inbox", "approve", write_id)
    assert done.code == 0, done.err
    db = open_database(pg_team.admin_url)
    try:
        assert Write.get_by_id(write_id).status == "approved"
        assert Write.get_by_id(write_id).decided_by == cy
    finally:
        db.close()
