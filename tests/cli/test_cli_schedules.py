"""`workflow show` of a scheduled workflow (the reading and the next run), bad schedules
refused with exit 2, and `workflow run` as the "run now" of a schedule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.support.schedules import scheduled_doc


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_show_reads_the_schedule_and_the_next_run(cli, tmp_path: Path) -> None:
    doc = scheduled_doc("morning", tmp_path, cron="0 7 * * mon-fri", timezone="Europe/Berlin")
    assert cli("workflow", "import", write(tmp_path, "morning", doc)).code == 0
    shown = cli("workflow", "show", "morning")
    assert shown.code == 0
    assert (
        "trigger:           At 07:00, Monday through Friday (Europe/Berlin): "
        "0 7 * * mon-fri (catch_up latest)" in shown.out
    )
    next_line = next(line for line in shown.out.splitlines() if line.startswith("next run:"))
    assert "UTC (" in next_line and ":00:00 CE" in next_line  # 07:00 CET or CEST
    data = cli("workflow", "show", "morning", "--json").json()["schedule"]
    next_at = dt.datetime.fromisoformat(data["next_at"])
    assert next_at > dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert next_at.weekday() < 5 and next_at.hour in (5, 6)
    assert data["catch_up"] == "latest" and data["timezone"] == "Europe/Berlin"


def test_folder_workflows_show_no_next_run(cli, tmp_path: Path) -> None:
    from tests.support.cli import REPORTS

    assert cli("workflow", "import", REPORTS).code == 0
    shown = cli("workflow", "show", "report-archive")
    assert "next run" not in shown.out
    assert "schedule" not in cli("workflow", "show", "report-archive", "--json").json()


def test_bad_schedules_exit_2_naming_the_problem(cli, tmp_path: Path) -> None:
    bad = scheduled_doc("bad", tmp_path, cron="0 7 * * funday")
    result = cli("workflow", "import", write(tmp_path, "bad", bad))
    assert result.code == 2 and "trigger.cron: not a cron expression" in result.err
    zone = scheduled_doc("zone", tmp_path, cron="0 7 * * *", timezone="Mars/Olympus")
    result = cli("workflow", "import", write(tmp_path, "zone", zone))
    assert result.code == 2 and "trigger.timezone: unknown time zone 'Mars/Olympus'" in result.err
    assert "bad" not in cli("workflow", "list").out


def test_run_now_runs_a_scheduled_workflow(cli, tmp_path: Path) -> None:
    doc = scheduled_doc("nightly", tmp_path, cron="0 3 * * *")
    cli("workflow", "import", write(tmp_path, "nightly", doc))
    result = cli("workflow", "run", "nightly", "--dry-run")
    assert result.code == 0, result.err
    assert "run 1 of nightly:" in result.out
