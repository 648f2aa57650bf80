"""The dashboard's "Next scheduled runs": enabled schedules soonest first, with their
reading; activating one asks for the workflow (its page has Run now)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from tests.support.pages import loaded
from tests.support.schedules import scheduled_doc


def test_next_scheduled_runs(qtbot, services, dash, tmp_path: Path) -> None:
    console = services.console
    loaded(qtbot, dash)
    assert dash.schedules.item(0).text() == "No scheduled workflow is enabled."
    console.import_workflow(scheduled_doc("hourly", tmp_path, cron="0 * * * *"))
    console.import_workflow(
        scheduled_doc("morning", tmp_path, cron="0 7 * * mon-fri", timezone="Europe/Berlin")
    )
    console.import_workflow(scheduled_doc("not-enabled", tmp_path, interval_s=60))
    console.enable_workflow("hourly")
    console.enable_workflow("morning")
    loaded(qtbot, dash)
    texts = [dash.schedules.item(i).text() for i in range(dash.schedules.count())]
    assert len(texts) == 2  # "not-enabled" is not
    assert texts[0].endswith("hourly: Every hour (UTC)")  # the sooner one first
    assert texts[1].endswith("morning: At 07:00, Monday through Friday (Europe/Berlin)")
    assert "UTC (" in texts[1] and " CE" in texts[1]
    asked = []
    services.navigator.workflow_requested.connect(asked.append)
    item = dash.schedules.item(1)
    assert item.data(Qt.ItemDataRole.UserRole) == "morning"
    dash.schedules.itemActivated.emit(item)
    assert asked == ["morning"]
