"""Runs page fixtures: runs made by the engine's own transactions (record, claim,
plan, fail, apply) on the `services` database, the page, and a real engine."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from sophmate_desktop.console import Console
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import Workflow
from sophmate_desktop.store.transitions import outcomes
from sophmate_desktop.ui.pages.runs import RunsPage
from tests.support.engine import engine_threads, wait_until
from tests.support.gui import on_screen
from tests.support.run_flow import WORKFLOW, Flow, email


@dataclass(frozen=True)
class Runs:
    succeeded: int
    failed: int
    waiting: int


@pytest.fixture
def flow(services, gui_db) -> Flow:
    """invoice-intake in staging, imported by "lead"; the page's actor is "ana"."""
    Console(gui_db, actor="lead").import_workflow(WORKFLOW)
    with write_transaction(gui_db):
        Workflow.update(stage="staging", enabled=True).execute()
    return Flow(gui_db, services.console)


@pytest.fixture
def runs(flow, gui_db) -> Runs:
    """A run approved and applied, one that failed in planning after its retries (the
    workflow paused itself, then was resumed), and one waiting for approval."""
    ok = flow.offer()
    flow.claim(ok)
    flow.plan(ok, [email(1), email(2)])
    first, second = flow.writes(ok)
    flow.console.approve([first, second], "totals match")
    flow.apply(first)
    flow.apply(second)
    bad = flow.offer("/srv/in/broken.csv", 12)
    for _attempt in range(3):
        flow.claim(bad)
        outcomes.fail_run(gui_db, bad, "input file is not valid text", {"exception": "InputError"})
    flow.console.resume_workflow("invoice-intake", "checked the input")
    waiting = flow.offer("/srv/in/later.csv", 800)
    flow.claim(waiting)
    flow.plan(waiting, [email(3)])
    return Runs(ok, bad, waiting)


@pytest.fixture
def page(qtbot, services) -> RunsPage:
    page = on_screen(qtbot, RunsPage(services), 1200, 700)
    page.refresh()
    return page


@pytest.fixture
def engine(services, gui_db) -> Iterator[Engine]:
    engine = Engine(gui_db, workers=1, tick_s=0.05, watch=False)
    services.console.events.subscribe(engine.wake)
    engine.start()
    yield engine
    engine.stop()
    wait_until(lambda: not [n for n in engine_threads() if n != "sophmate-notify"], 10, "stop")
