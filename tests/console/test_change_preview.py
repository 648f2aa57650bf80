"""Change preview through the console: the last inputs planned against the saved and
the edited definition, on real files, with nothing written but one audit event."""

from __future__ import annotations

import pytest

from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.workflow_file import parse_workflow_yaml
from sophmate_desktop.store.models import AuditEvent, Run, Write
from tests.support.change_preview import EXTRA_STEP, inputs_with_runs, preview_yaml


def saved_with_inputs(console, db, tmp_path, count: int = 3):
    console.import_workflow(preview_yaml(tmp_path))
    return inputs_with_runs(db, tmp_path, "wf-prev", count)


def previewed_events() -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.action == "workflow.previewed"))


def test_edited_template_shows_changed_writes_with_the_diff(console, db, tmp_path) -> None:
    paths = saved_with_inputs(console, db, tmp_path)
    edited = parse_workflow_yaml(preview_yaml(tmp_path, content="Goodbye {{ input }}"))
    result = console.preview_change(edited, last=10)
    assert [i.path for i in result.inputs] == [str(p) for p in reversed(paths)]
    first = result.inputs[0]
    assert first.summary() == "0 added, 0 removed, 1 changed"
    (change,) = first.changes
    assert change.change == "changed" and change.kind == "write_file"
    assert change.target == str(tmp_path / "staging" / "in-002.txt")
    assert "-Hello line 2" in change.diff and "+Goodbye line 2" in change.diff
    assert "--- revision 1" in change.diff and "+++ edited" in change.diff
    assert result.totals()["changed"] == 3


def test_an_added_step_shows_added_writes(console, db, tmp_path) -> None:
    saved_with_inputs(console, db, tmp_path, count=2)
    edited = parse_workflow_yaml(preview_yaml(tmp_path, extra=EXTRA_STEP))
    result = console.preview_change(edited, last=1)
    (only,) = result.inputs
    assert only.summary() == "1 added, 0 removed, 0 changed" and only.unchanged == 1
    (added,) = only.changes
    assert added.target == str(tmp_path / "staging" / "in-001.copy")
    assert "+copy of line 1" in added.diff


def test_a_removed_step_shows_removed_writes(console, db, tmp_path) -> None:
    console.import_workflow(preview_yaml(tmp_path, extra=EXTRA_STEP))
    inputs_with_runs(db, tmp_path, "wf-prev", 1)
    result = console.preview_change(parse_workflow_yaml(preview_yaml(tmp_path)))
    assert result.inputs[0].summary() == "0 added, 1 removed, 0 changed"


def test_unchanged_definition_shows_unchanged(console, db, tmp_path) -> None:
    saved_with_inputs(console, db, tmp_path, count=2)
    result = console.preview_change(parse_workflow_yaml(preview_yaml(tmp_path)))
    assert [i.summary() for i in result.inputs] == ["unchanged", "unchanged"]


def test_files_changed_or_missing_since_are_unavailable(console, db, tmp_path) -> None:
    paths = saved_with_inputs(console, db, tmp_path)
    paths[0].write_text("edited since the run")
    paths[1].unlink()
    edited = parse_workflow_yaml(preview_yaml(tmp_path, content="Bye {{ input }}"))
    result = console.preview_change(edited)
    summaries = {i.path: i.summary() for i in result.inputs}
    assert summaries[str(paths[0])] == "unavailable: changed since the run"
    assert summaries[str(paths[1])] == "unavailable: missing"
    assert summaries[str(paths[2])] == "0 added, 0 removed, 1 changed"
    assert result.totals()["unavailable"] == 2


def test_nothing_is_written_and_one_event_is_audited(console, db, tmp_path) -> None:
    saved_with_inputs(console, db, tmp_path)
    runs_before = Run.select().count()
    edited = parse_workflow_yaml(preview_yaml(tmp_path, content="X {{ input }}", extra=EXTRA_STEP))
    console.preview_change(edited)
    assert list((tmp_path / "out").iterdir()) == []
    assert list((tmp_path / "staging").iterdir()) == []
    assert Write.select().count() == 0 and Run.select().count() == runs_before
    (event,) = previewed_events()
    assert event.actor == "ana" and event.workflow == "wf-prev"
    assert event.details["added"] == 3 and event.details["changed"] == 3
    assert console.get_workflow("wf-prev").revision == 1


def test_a_plan_error_of_the_edit_is_shown_per_input(console, db, tmp_path) -> None:
    saved_with_inputs(console, db, tmp_path, count=1)
    edited = parse_workflow_yaml(preview_yaml(tmp_path, content="{{ nothing.here }}"))
    (only,) = console.preview_change(edited).inputs
    assert only.summary().startswith("edited definition cannot plan: ")


def test_bad_requests_name_the_field(console, db, tmp_path) -> None:
    saved_with_inputs(console, db, tmp_path, count=1)
    with pytest.raises(BadInput, match="--last"):
        console.preview_change(parse_workflow_yaml(preview_yaml(tmp_path)), last=0)
    other = parse_workflow_yaml(preview_yaml(tmp_path, name="wf-unsaved"))
    with pytest.raises(BadInput, match="name: no saved workflow"):
        console.preview_change(other)
    assert previewed_events() == []
