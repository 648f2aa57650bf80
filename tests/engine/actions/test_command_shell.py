"""A shell in argv with a value quoted by shell_quote (issue 14 item 8), for real: a
trigger file named `x; touch pwned` is one word to the shell, nothing else runs. The
same script without the filter (planned here directly, as validation refuses it)
shows what the rule prevents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sophmate_desktop.domain.workflow_file import WorkflowFileError
from sophmate_desktop.engine.actions import apply_write, plan_step
from tests.support.actions import step
from tests.support.engine import to_staging, workflow_doc

EVIL_NAME = "x; touch pwned"


def _evil_file(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / EVIL_NAME
    path.write_text("invoice\n")
    return path


def _run(make_plan_ctx, make_apply_ctx, script: str, work: Path, file: Path) -> str:
    argv = ["sh", "-c", script]
    (w,) = plan_step(step("run_command", argv=argv, cwd=str(work)), make_plan_ctx(file=file), 0)
    return apply_write(w.kind, w.payload, make_apply_ctx()).output


def test_a_quoted_file_name_is_one_word(make_plan_ctx, make_apply_ctx, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    evil = _evil_file(tmp_path / "in")
    script = "cp {{ file.path | shell_quote }} copy-of-{{ file.name | shell_quote }}"
    _run(make_plan_ctx, make_apply_ctx, script, work, evil)
    assert sorted(p.name for p in work.iterdir()) == [f"copy-of-{EVIL_NAME}"]
    assert not (work / "pwned").exists()


def test_without_the_filter_the_name_would_run(make_plan_ctx, make_apply_ctx, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    evil = _evil_file(tmp_path / "in")
    _run(make_plan_ctx, make_apply_ctx, "echo {{ file.name }}", work, evil)
    assert (work / "pwned").exists()  # what validation refuses (below)


def _steps(script: str, work: Path) -> str:
    return (
        "  - action: run_command\n    name: archive\n"
        f"    argv: {json.dumps(['/bin/sh', '-c', script])}\n    cwd: {json.dumps(str(work))}\n"
    )


def test_an_engine_run_with_the_filter_creates_no_pwned(sqlite_db, sconsole, make_engine, tmp_path):
    work, out = tmp_path / "work", tmp_path / "out"
    work.mkdir()
    with pytest.raises(WorkflowFileError) as info:
        sconsole.import_workflow(
            workflow_doc("arch", None, out, steps=_steps("echo {{ file.name }}", work))
        )
    assert "steps[0].argv[2]: sh runs this script" in str(info.value)
    assert "shell_quote" in str(info.value)
    quoted = "echo {{ file.name | shell_quote }} > seen.txt"
    sconsole.import_workflow(workflow_doc("arch", None, out, steps=_steps(quoted, work)))
    engine = make_engine(sqlite_db, sconsole, watch=False)
    sample = tmp_path / "sample.txt"
    sample.write_text("sample")
    to_staging(sconsole, engine, "arch", sample)
    run_id = engine.run_now("arch", _evil_file(tmp_path / "in"))
    assert engine.wait_for_run(run_id, 30) == "awaiting_approval"
    (write,) = sconsole.list_inbox()
    sconsole.approve([write.id])
    assert engine.wait_for_run(run_id, 30, until=("succeeded", "failed")) == "succeeded"
    assert (work / "seen.txt").read_text() == f"{EVIL_NAME}\n"
    assert sorted(p.name for p in work.iterdir()) == ["seen.txt"]
