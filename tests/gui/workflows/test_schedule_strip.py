"""The Workflows page's schedule line: the reading and next run of a scheduled workflow,
hidden for a folder workflow, and "Run now" starting a run through the window's engine."""

from __future__ import annotations

from pathlib import Path

from sophmate_desktop.store.models import Run
from tests.support.factories import workflow_yaml
from tests.support.gui import click
from tests.support.schedules import scheduled_doc


def test_the_schedule_line_follows_the_selection(qtbot, page, console, tmp_path: Path) -> None:
    console.import_workflow(
        scheduled_doc("morning", tmp_path, cron="0 7 * * mon-fri", timezone="Europe/Berlin")
    )
    console.import_workflow(workflow_yaml("wf-files"))
    page.refresh()
    assert page._select("morning")
    strip = page.schedule
    qtbot.waitUntil(strip.isVisible, timeout=3000)
    text = strip.label.text()
    assert text.startswith("Schedule: At 07:00, Monday through Friday (Europe/Berlin). Next run:")
    assert "not enabled" in text
    assert not strip.run_now_button.isEnabled()  # no engine runs in this window
    assert page._select("wf-files")
    qtbot.waitUntil(lambda: not strip.isVisible(), timeout=3000)


def test_run_now_starts_a_run(make_window, qtbot, tmp_path: Path) -> None:
    from sophmate_desktop.ui import navigator as nav

    window = make_window(start_engine=True)
    console = window.services.console
    console.import_workflow(scheduled_doc("nightly", tmp_path, cron="0 3 * * *"))
    window.services.navigator.show_workflow("nightly")
    page = window.page(nav.WORKFLOWS)
    qtbot.waitUntil(lambda: not page.schedule.isHidden(), timeout=3000)
    assert page.schedule.run_now_button.isEnabled()
    click(qtbot, page, "runNowButton")
    qtbot.waitUntil(lambda: "started" in page.message.text(), timeout=20000)
    run = Run.get()
    assert (run.trigger_kind, run.created_by) == ("manual", "ana")
    assert f"Run {run.id} of nightly started." == page.message.text()
