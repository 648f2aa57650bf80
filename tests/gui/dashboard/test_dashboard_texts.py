"""The dashboard's words stay true: a paused workflow is a paused switch, and a count
of one reads in the singular."""

from __future__ import annotations

from tests.support.factories import make_run, make_write, workflow_yaml
from tests.support.pages import loaded


def test_a_paused_workflow_counts_as_a_paused_switch(qtbot, services, dash) -> None:
    console = services.console
    console.import_workflow(workflow_yaml("wf-fin", "finance"))
    console.import_workflow(workflow_yaml("wf-ops", "ops"))
    loaded(qtbot, dash)
    assert dash.paused_tile.count_text() == "0"
    assert dash.paused_tile.label.text() == "switches paused"

    console.pause_workflow("wf-ops", "supplier changed its format")
    loaded(qtbot, dash)
    assert dash.paused_tile.count_text() == "1"
    assert dash.paused_tile.label.text() == "switch paused"
    assert dash.paused_tile.detail.text() == "wf-ops"
    assert console.dashboard().paused_names == ("wf-ops",)

    console.pause_category("finance", "quarter close")
    loaded(qtbot, dash)
    assert dash.paused_tile.count_text() == "2"
    assert dash.paused_tile.detail.text() == "finance, wf-ops"
    assert dash.paused_tile.accessibleName() == "2 switches paused"


def test_one_write_awaits_two_writes_await(qtbot, services, dash) -> None:
    console, db = services.console, services.console.db
    console.import_workflow(workflow_yaml("wf-fin", "finance"))
    run = make_run(db, "wf-fin")
    make_write(db, run, seq=1)
    loaded(qtbot, dash)
    assert (dash.pending_tile.count_text(), dash.pending_tile.label.text()) == (
        "1",
        "write awaits approval",
    )
    assert dash.held_tile.label.text() == "held runs"  # none: "0 held runs"
    make_write(db, run, seq=2)
    loaded(qtbot, dash)
    assert dash.pending_tile.label.text() == "writes await approval"
    assert dash.pending_tile.toolTip().startswith("2 writes await approval")
