"""Helpers for tests that run a real engine: workflow files over real folders, waiting
for what the engine's threads do, and bringing a workflow to staging (a reviewed dry
run, then promote). The `make_engine` fixture lives in tests/engine/conftest.py."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sophmate_desktop.console import Console
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.store.models import Write

HEADER = """\
name: {name}
category: {category}
owner: ops-lead
description: An engine test workflow.
trigger: {trigger}
input: {{read: {read}, max_bytes: 10000000}}
output: {{paths: [{out}], staging_paths: [{out}]}}
steps:
{steps}
approval: {approval}
retry: {{limit: {retry}, backoff_s: {backoff}}}
notify: {{on_failure: [tray]}}
pause: {{consecutive_failures: {pause}}}
rollback: Delete what it wrote.
"""

WRITE_COPY = """\
  - action: write_file
    to: "{{ output.path }}/{{ file.name }}"
    content: "{{ input }}"
"""


def workflow_doc(
    name: str,
    folder: Path | None,
    out: Path,
    *,
    category: str = "finance",
    steps: str = WRITE_COPY,
    settle_ms: int = 100,
    patterns: tuple[str, ...] = ("*.txt",),
    approval: str = "{mode: always}",
    read: str = "text",
    retry: int = 0,
    backoff: float = 0,
    pause: int = 3,
) -> str:
    """A complete (enable-able) workflow file watching `folder` and writing under `out`."""
    if folder is None:
        trigger = "{manual: true}"
    else:
        trigger = json.dumps(
            {"folder": str(folder), "patterns": list(patterns), "settle_ms": settle_ms}
        )
    return HEADER.format(
        name=name,
        category=category,
        trigger=trigger,
        read=read,
        out=json.dumps(str(out)),
        steps=steps.rstrip("\n"),
        approval=approval,
        retry=retry,
        backoff=backoff,
        pause=pause,
    )


def wait_until(check: Callable[[], object], timeout: float, what: str) -> object:
    """Poll `check` until it returns something truthy, or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def engine_threads() -> list[str]:
    return [
        t.name for t in threading.enumerate() if t.name.startswith("sophmate-") and t.is_alive()
    ]


def to_staging(console, engine: Engine, name: str, sample: Path) -> None:
    """import -> reviewed dry run -> staging -> enabled."""
    run_id = engine.run_now(name, sample, mode="dry_run")
    assert engine.wait_for_run(run_id, 30) == "succeeded", console.get_run(run_id).error
    console.record_review(name, "first_run")
    console.promote(name, "staging")
    console.enable_workflow(name)


SLEEPER = f"""\
  - action: run_command
    argv: {json.dumps([sys.executable, "-c", "import time; time.sleep(30)"])}
    timeout_s: 60
"""


def staging_workflow(
    console, engine, tmp_path: Path, name: str, steps: str, pause: int = 3
) -> Path:
    out = tmp_path / f"out-{name}"
    out.mkdir()
    console.import_workflow(workflow_doc(name, None, out, steps=steps, pause=pause))
    sample = tmp_path / f"sample-{name}.txt"
    sample.write_text("sample")
    to_staging(console, engine, name, sample)
    return out


def pending_run(console, engine, tmp_path: Path, name: str, stem: str) -> list[int]:
    src = tmp_path / "inputs" / f"{stem}.txt"
    src.parent.mkdir(exist_ok=True)
    src.write_text(stem)
    run_id = engine.run_now(name, src)
    assert engine.wait_for_run(run_id, 30) == "awaiting_approval", console.get_run(run_id).error
    return [w.id for w in Write.select(Write.id).where(Write.run == run_id).order_by(Write.seq)]


def staging_run(console: Console, engine: Engine, name: str, doc: str, sample: Path) -> int:
    """Import `doc`, bring it to staging, run it on `sample`; the run awaits approval."""
    console.import_workflow(doc)
    to_staging(console, engine, name, sample)
    run_id = engine.run_now(name, sample)
    status = engine.wait_for_run(run_id, 30)
    assert status == "awaiting_approval", console.get_run(run_id).error
    return run_id
