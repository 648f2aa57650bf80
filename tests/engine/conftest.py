"""Engine fixtures: engines that always stop, workflow files for real folders, and a
quick way to bring a workflow to staging (a reviewed dry run, then promote)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sophmate_desktop.engine.service import Engine

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
retry: {{limit: {retry}, backoff_s: 0}}
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


@pytest.fixture
def make_engine() -> Iterator[Callable[..., Engine]]:
    """make_engine(db, console=None, **kw): a started Engine, stopped at teardown."""
    engines: list[Engine] = []

    def make(db, console=None, **kw) -> Engine:
        kw.setdefault("workers", 2)
        kw.setdefault("tick_s", 0.05)
        engine = Engine(db, **kw)
        if console is not None:
            console.events.subscribe(engine.wake)
        engines.append(engine)
        engine.start()
        return engine

    yield make
    for engine in engines:
        engine.stop()
    # notice threads (sophmate-notify) may finish a moment after stop
    wait_until(
        lambda: not [n for n in engine_threads() if n != "sophmate-notify"],
        10,
        "engine threads to end",
    )


def to_staging(console, engine: Engine, name: str, sample: Path) -> None:
    """import -> reviewed dry run -> staging -> enabled."""
    run_id = engine.run_now(name, sample, mode="dry_run")
    assert engine.wait_for_run(run_id, 30) == "succeeded", console.get_run(run_id).error
    console.record_review(name, "first_run")
    console.promote(name, "staging")
    console.enable_workflow(name)


@pytest.fixture
def sconsole(sqlite_db):
    """A console over the SQLite database only (`console` is parametrized over both)."""
    from sophmate_desktop.console import Console

    return Console(sqlite_db, actor="ana")
