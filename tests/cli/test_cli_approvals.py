"""The command line: reviews of ticked runs, N approvers and the approver's marker."""

from __future__ import annotations

from pathlib import Path

from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import Run
from tests.support.cli import REPORTS, Cli, add_run
from tests.support.factories import workflow_yaml


def test_review_marks_the_runs_given_and_names_a_bad_one(cli: Cli) -> None:
    cli("workflow", "import", REPORTS, actor="lead")
    ok, _ = add_run(cli.url, "report-archive", status="succeeded", mode="dry_run")
    bad, _ = add_run(cli.url, "report-archive", status="failed", mode="dry_run")
    result = cli("review", "report-archive", "--kind", "first_run", "--runs", "x,1")
    assert result.code == 2 and "--runs" in result.err
    result = cli("review", "report-archive", "--kind", "after_failure", "--runs", str(bad))
    assert result.code == 0
    db = open_database(cli.url)
    reviewed = {r.id for r in Run.select().where(Run.reviewed_at.is_null(False))}
    assert reviewed == {bad}
    result = cli("workflow", "promote", "report-archive", "--to", "staging")
    assert result.code == 3  # a reviewed failure is not a reviewed successful run
    assert cli("review", "report-archive", "--kind", "monthly").code == 0
    assert {r.id for r in Run.select().where(Run.reviewed_at.is_null(False))} == {bad, ok}
    db.close()


def test_inbox_list_shows_approvals_and_why_not(cli: Cli, tmp_path: Path) -> None:
    doc = tmp_path / "two.yaml"
    doc.write_text(workflow_yaml("wf-two").replace("{mode: always}", "{approvers: 2}"))
    cli("workflow", "import", str(doc), actor="lead")
    _, [write_id] = add_run(cli.url, "wf-two", writes=1)
    assert cli("inbox", "approve", str(write_id), actor="ana").code == 0
    [row] = cli("inbox", "list", "--json", actor="ana").json()
    assert (row["approvals_given"], row["approvals_needed"]) == (1, 2)
    assert "approved it already" in row["refusal"]
    table = cli("inbox", "list", actor="bob").out
    assert "1 of 2" in table and "approved it already" not in table
    assert "approved it already" in cli("inbox", "list", actor="ana").out
    result = cli("inbox", "approve", str(write_id), actor="bob")
    assert result.code == 0 and "approved" in result.out


def test_customer_facing_approvers_setting(cli: Cli) -> None:
    assert cli("settings", "customer-facing-approvers").out.strip().endswith("need 1 approver(s)")
    result = cli("settings", "customer-facing-approvers", "11")
    assert result.code == 2 and "customer_facing_approvers" in result.err
    assert cli("settings", "customer-facing-approvers", "2").code == 0
    assert "need 2 approver(s)" in cli("settings", "customer-facing-approvers").out
