"""A custom-action plug-in updated since the workflow last ran pauses the workflow and
holds the run through legal transitions (running -> queued -> held), replayable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sophmate_desktop.domain import states
from sophmate_desktop.domain.errors import IllegalTransition
from sophmate_desktop.store.models import AuditEvent, Run, Workflow
from tests.support.engine import workflow_doc
from tests.support.plugins import installed_example_plugin, update_example_plugin

APPEND = """\
  - action: append_line
    effect: file
    with: {to: "{{ output.path }}/log.txt", line: "run {{ run.id }} done"}
"""


@pytest.fixture
def plugin_site(tmp_path: Path) -> Iterator[Path]:
    with installed_example_plugin(tmp_path / "site") as folder:
        yield folder


def trail(run_id: int) -> list[tuple[str, str | None]]:
    return list(
        AuditEvent.select(AuditEvent.action, AuditEvent.reason)
        .where(AuditEvent.run == run_id)
        .order_by(AuditEvent.id)
        .tuples()
    )


def test_a_plugin_update_holds_the_running_run_and_replay_runs_it(
    plugin_site, sqlite_db, sconsole, make_engine, tmp_path
):
    out = tmp_path / "out"
    out.mkdir()
    sconsole.import_workflow(workflow_doc("appender", None, out, steps=APPEND, read="none"))
    engine = make_engine(sqlite_db, sconsole)
    first = engine.run_now("appender", mode="dry_run")
    assert engine.wait_for_run(first, 20) == "succeeded", Run.get_by_id(first).error
    assert Workflow.get(Workflow.name == "appender").plugin_versions == {"append_line": "1.2.0"}

    update_example_plugin(plugin_site, "1.3.0")
    second = engine.run_now("appender", mode="dry_run")
    assert engine.wait_for_run(second, 20) == "held"
    run = Run.get_by_id(second)
    assert run.claimed_by is None
    wf = Workflow.get(Workflow.name == "appender")
    assert wf.paused and wf.paused_reason == "plug-in updated: append_line 1.2.0 -> 1.3.0"
    assert [a for a, _ in trail(second)] == [
        "run.queued",
        "run.started",
        "run.held",
        "workflow.auto_paused",
    ]
    assert trail(second)[2][1] == wf.paused_reason
    # running -> held is not a transition of its own; the engine goes through queued
    with pytest.raises(IllegalTransition):
        states.check_run("running", "held")

    sconsole.resume_workflow("appender", "checked the plug-in's changelog")
    assert sconsole.replay_held([second], "plug-in reviewed") == 1
    assert engine.wait_for_run(second, 20, until=("succeeded", "failed")) == "succeeded"
    assert Workflow.get(Workflow.name == "appender").plugin_versions == {"append_line": "1.3.0"}
