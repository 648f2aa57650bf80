"""Inbox fixtures: the page on the `services` of tests/gui/conftest.py, pending writes
made with the factories (fast), and `services` with a real engine (real previews).
Driving the page is in tests/support/pages.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from PySide6.QtWidgets import QApplication

from sophmate_desktop.console import Console
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.ui.pages.inbox import InboxPage
from sophmate_desktop.ui.services import UiServices
from tests.support.factories import make_run, make_write, workflow_yaml
from tests.support.gui import on_screen


@dataclass
class Seeded:
    lead: Console
    ids: dict[str, list[int]]  # by workflow name, in creation order


@pytest.fixture
def lead(gui_db) -> Console:
    return Console(gui_db, actor="lead")


@pytest.fixture
def seeded(gui_db, lead) -> Seeded:
    """invoices (finance, write_file x3, one customer-facing send_email), hooks (ops,
    http_request x2), imported by "lead"; the page's actor is "ana"."""
    lead.import_workflow(workflow_yaml("invoices", "finance"))
    lead.import_workflow(workflow_yaml("hooks", "ops"))
    ids: dict[str, list[int]] = {"invoices": [], "hooks": []}
    run = make_run(gui_db, "invoices")
    for seq in range(1, 4):
        w = make_write(gui_db, run, seq=seq, target=f"/srv/acct/inv-{seq}.csv")
        ids["invoices"].append(w.id)
    mail = make_write(
        gui_db,
        run,
        seq=4,
        kind="send_email",
        effect="email",
        customer_facing=True,
        target="billing@acme.example.test",
    )
    ids["invoices"].append(mail.id)
    hooks_run = make_run(gui_db, "hooks")
    for seq in range(1, 3):
        w = make_write(
            gui_db,
            hooks_run,
            seq=seq,
            kind="http_request",
            effect="http",
            target=f"https://hooks.example.test/{seq}",
        )
        ids["hooks"].append(w.id)
    return Seeded(lead, ids)


@pytest.fixture
def make_page(qtbot, services) -> Callable[..., InboxPage]:
    def make(svc: UiServices | None = None) -> InboxPage:
        page = on_screen(qtbot, InboxPage(svc or services), 1200, 700)
        page.activateWindow()  # shortcuts and focus need the active window
        qtbot.waitUntil(lambda: QApplication.activeWindow() is page)
        qtbot.waitUntil(lambda: not page.refreshing)  # the counts, read in the background
        return page

    return make


@pytest.fixture
def engine_services(gui_db, services) -> Iterator[UiServices]:
    """`services` with a started engine (its events reach the page), stopped at the end."""
    console = services.console
    engine = Engine(gui_db, secrets=console.secrets, tick_s=0.05)
    unsubscribe = console.events.subscribe(engine.wake)
    services.events.attach(engine.events)
    engine.start()
    yield UiServices(console, services.events, services.tasks, services.navigator, engine)
    assert services.tasks.wait_done(30_000)
    engine.stop()
    unsubscribe()
