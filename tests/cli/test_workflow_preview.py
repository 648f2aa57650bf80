"""`workflow preview FILE [--last N] [--json]` on real files and both databases."""

from __future__ import annotations

from pathlib import Path

from sophmate_desktop.store.database import open_database
from tests.support.change_preview import EXTRA_STEP, inputs_with_runs, preview_yaml
from tests.support.cli import Cli


def saved(cli: Cli, tmp_path: Path, count: int) -> list[Path]:
    path = tmp_path / "saved.yaml"
    path.write_text(preview_yaml(tmp_path))
    assert cli("workflow", "import", path).code == 0
    db = open_database(cli.url)
    try:
        return inputs_with_runs(db, tmp_path, "wf-prev", count)
    finally:
        db.close()


def edited_file(tmp_path: Path, **changes: str) -> Path:
    path = tmp_path / "edited.yaml"
    path.write_text(preview_yaml(tmp_path, **changes))
    return path


def test_preview_prints_changes_and_diffs(any_cli: Cli, tmp_path: Path) -> None:
    paths = saved(any_cli, tmp_path, 3)
    paths[0].unlink()
    edited = edited_file(tmp_path, content="Bye {{ input }}", extra=EXTRA_STEP)
    result = any_cli("workflow", "preview", edited, "--last", "2")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("preview of wf-prev: edited definition against revision 1, 2 inputs")
    assert f"{paths[2]}: 1 added, 0 removed, 1 changed" in result.out
    assert "    +Bye line 2" in result.out and "    -Hello line 2" in result.out
    assert str(paths[0]) not in result.out  # --last 2: the oldest is not replayed
    assert list((tmp_path / "staging").iterdir()) == []


def test_preview_json_lists_unavailable_inputs(any_cli: Cli, tmp_path: Path) -> None:
    paths = saved(any_cli, tmp_path, 2)
    paths[1].write_text("changed")
    data = any_cli("workflow", "preview", edited_file(tmp_path), "--json").json()
    assert data["workflow"] == "wf-prev" and data["revision"] == 1
    assert [i["summary"] for i in data["inputs"]] == [
        "unavailable: changed since the run",
        "unchanged",
    ]
    assert data["totals"]["unavailable"] == 1
    events = any_cli("audit", "list", "--json").json()
    assert [e["action"] for e in events].count("workflow.previewed") == 1


def test_preview_bad_input_exits_2(cli: Cli, tmp_path: Path) -> None:
    saved(cli, tmp_path, 1)
    result = cli("workflow", "preview", edited_file(tmp_path), "--last", "0")
    assert result.code == 2 and "--last" in result.err
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [")
    result = cli("workflow", "preview", bad)
    assert result.code == 2 and f"{bad}: " in result.err
    result = cli("workflow", "preview", tmp_path / "nothing.yaml")
    assert result.code == 2 and "no such file" in result.err
