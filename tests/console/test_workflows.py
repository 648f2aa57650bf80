"""Workflow lifecycle through the console: import, checklist, graduation, review."""

from __future__ import annotations

import pytest

from sophmate_desktop.domain.errors import BadInput, NotFound, PolicyRefused
from sophmate_desktop.store import audit
from sophmate_desktop.store.models import AuditEvent, Workflow
from tests.support.factories import make_run, workflow_yaml

INCOMPLETE = (
    workflow_yaml("wf-incomplete")
    .replace("notify: {on_failure: [tray]}\n", "")
    .replace("rollback: Delete the written file.\n", "")
)


def actions() -> list[str]:
    return [e.action for e in AuditEvent.select().order_by(AuditEvent.id)]


def test_import_creates_category_and_audits(console) -> None:
    row = console.import_workflow(workflow_yaml())
    assert (row.name, row.category, row.stage, row.revision, row.enabled) == (
        "wf-one",
        "finance",
        "dry_run",
        1,
        False,
    )
    assert actions() == ["category.created", "workflow.imported"]
    assert audit.verify(console.db).ok


def test_reimport_same_file_changes_nothing_and_edit_bumps_revision(console) -> None:
    console.import_workflow(workflow_yaml())
    console.import_workflow(workflow_yaml())
    assert actions().count("workflow.imported") == 1
    row = console.import_workflow(workflow_yaml(owner="someone-else"))
    assert row.revision == 2 and row.owner == "someone-else"
    assert actions()[-1] == "workflow.updated"


def test_bad_file_writes_nothing(console) -> None:
    with pytest.raises(BadInput):
        console.import_workflow(b"\x89PNG\r\n\x1a\n\x00\x00garbage")
    assert Workflow.select().count() == 0 and AuditEvent.select().count() == 0


def test_enable_refused_names_missing_items(console) -> None:
    console.import_workflow(INCOMPLETE)
    with pytest.raises(PolicyRefused, match="missing notification path, rollback path"):
        console.enable_workflow("wf-incomplete")
    assert console.get_workflow("wf-incomplete").missing_checklist == (
        "notification path",
        "rollback path",
    )
    assert "workflow.enabled" not in actions()


def test_enable_disable_audited(console) -> None:
    console.import_workflow(workflow_yaml())
    assert console.enable_workflow("wf-one").enabled
    assert not console.disable_workflow("wf-one", reason="holiday").enabled
    assert actions()[-2:] == ["workflow.enabled", "workflow.disabled"]


def test_editing_an_enabled_workflow_into_an_incomplete_one_disables_it(console) -> None:
    console.import_workflow(workflow_yaml("wf-incomplete"))
    console.enable_workflow("wf-incomplete")
    row = console.import_workflow(INCOMPLETE)
    assert not row.enabled


def test_graduation_path(db, console) -> None:
    console.import_workflow(workflow_yaml())
    with pytest.raises(PolicyRefused, match=r"needs 1 reviewed successful dry run \(0 so far\)"):
        console.promote("wf-one", "staging")
    make_run(db, "wf-one", status="succeeded", mode="dry_run")
    console.record_review("wf-one", "first_run", notes="plan looks right")
    assert console.promote("wf-one", "staging").stage == "staging"
    for _ in range(3):
        make_run(db, "wf-one", status="succeeded", mode="staging")
    console.record_review("wf-one", "monthly")
    with pytest.raises(PolicyRefused, match="3 of 5 reviewed staging runs"):
        console.promote("wf-one", "production")
    for _ in range(2):
        make_run(db, "wf-one", status="succeeded", mode="staging")
    with pytest.raises(PolicyRefused, match="3 of 5 reviewed staging runs"):
        console.promote("wf-one", "production")  # the two new runs are not reviewed yet
    console.record_review("wf-one", "after_failure")
    assert console.promote("wf-one", "production").stage == "production"
    promoted = AuditEvent.select().where(AuditEvent.action == "workflow.promoted")
    assert [e.details for e in promoted] == [
        {"from": "dry_run", "to": "staging"},
        {"from": "staging", "to": "production"},
    ]


def test_bad_stage_and_unknown_names(console) -> None:
    console.import_workflow(workflow_yaml())
    with pytest.raises(BadInput, match="--to: unknown stage 'prod'"):
        console.promote("wf-one", "prod")
    with pytest.raises(NotFound):
        console.enable_workflow("nope")
    with pytest.raises(BadInput, match="unknown review kind"):
        console.record_review("wf-one", "weekly")


def test_export_round_trips(console) -> None:
    console.import_workflow(workflow_yaml())
    exported = console.export_workflow("wf-one")
    assert console.import_workflow(exported).revision == 1  # identical: no new revision


def test_replace_owner_is_a_new_revision(console) -> None:
    console.import_workflow(workflow_yaml())
    row = console.replace_owner("wf-one", "new-lead")
    assert (row.owner, row.revision) == ("new-lead", 2)


def test_enable_refuses_a_missing_watched_folder_or_creates_it(console, tmp_path) -> None:
    from sophmate_desktop.domain.errors import FolderMissing
    from tests.support.factories import WATCHED

    folder = tmp_path / "in" / "box"
    console.import_workflow(workflow_yaml("wf-one").replace(str(WATCHED), str(folder)))
    with pytest.raises(FolderMissing) as info:
        console.enable_workflow("wf-one")
    assert info.value.folder == str(folder) and info.value.exit_code == 2
    assert console.get_workflow("wf-one").enabled is False
    assert "workflow.enabled" not in {e.action for e in console.list_audit()}
    assert console.enable_workflow("wf-one", create_folder=True).enabled is True
    assert folder.is_dir()
    assert console.list_audit(limit=1)[0].details["created_folder"] == str(folder)
