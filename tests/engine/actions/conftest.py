"""Fixtures for the action tests: plan/apply contexts over real folders, secrets in a dict."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from sophmate_desktop.domain.workflow import WorkflowDefinition
from sophmate_desktop.engine.actions import ApplyContext, PlanContext
from tests.support.actions import lookup, trigger_file


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def outside_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


@pytest.fixture
def make_plan_ctx(out_dir: Path) -> Callable[..., PlanContext]:
    def make(
        *,
        mode: str = "production",
        file: Path | None = None,
        input: Any = None,
        output_paths: tuple[Path, ...] | None = None,
        connections: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> PlanContext:
        return PlanContext(
            workflow=WorkflowDefinition(name="intake", category="finance", owner="ops-lead"),
            run_id=7,
            mode=mode,
            file=trigger_file(file) if file is not None else None,
            input=input,
            output_paths=output_paths if output_paths is not None else (out_dir,),
            connections=connections or {},
        )

    return make


@pytest.fixture
def make_apply_ctx() -> Callable[..., ApplyContext]:
    def make(
        key: str = "key-1",
        *,
        connections: Mapping[str, Mapping[str, Any]] | None = None,
        cancelled: threading.Event | None = None,
        register_process: Callable[[Any], None] | None = None,
    ) -> ApplyContext:
        ctx = ApplyContext(idempotency_key=key, secret=lookup, connections=connections or {})
        if cancelled is not None:
            ctx.cancelled = cancelled
        if register_process is not None:
            ctx.register_process = register_process
        return ctx

    return make
