"""Journey 5, the dead desktop: Ben's laptop dies mid-apply.

Ben's desktop engine (a real engine process named `ben-laptop`, in the `team-server`
pool, on a host of its own) is applying three approved writes of a pool workflow: two
files written, an HTTP request held by the server. Ben's laptop is killed (-9). Ana's
open window shows his engine as down and what it held: the three writes, applying on
ben-laptop, "(engine down)". Ana's own engine is in no pool and takes none of it. The
team server's engine (another process, in the pool) starts and finishes his idempotent
file writes; the request waits as interrupted in Ana's inbox, and she decides it with
clicks: she marks it applied, with a comment.
"""

from __future__ import annotations

import signal

import pytest
from PySide6.QtCore import Qt

from sophmate_desktop.console import Console
from sophmate_desktop.store.models import Write
from sophmate_desktop.ui import navigator as nav
from tests.support.engine_processes import stop_engine
from tests.support.holding_server import holding_server
from tests.support.journeys.j3 import WAIT_MS, go_to
from tests.support.pages import click_row, decide, shown_ids
from tests.support.pool_scene import desktop, engine_up, prepare

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(240)]

LEASE_S = 6.0


def _statuses(page) -> dict[int, str]:
    page.model.fetch_all()
    return {row.id: row.status_text for row in page.model.loaded_rows()}


def _shown_again(qtbot, window) -> None:
    """Ctrl+1 then Ctrl+2, as a person looks again; until the inbox shows what it read."""
    page = window.page(nav.INBOX)
    go_to(qtbot, window, 1)
    with qtbot.waitSignal(page.refreshed, timeout=WAIT_MS):
        go_to(qtbot, window, 2)


def test_bens_laptop_dies_mid_apply_and_the_team_server_finishes_his_work(
    qtbot, make_window, pg_url, tmp_path
):
    ana = make_window("ana", start_engine=True, url=pg_url)
    db = ana.services.console.db
    lead = Console(db, actor="lead")
    with holding_server() as server:
        scene = prepare(db, lead, Console(db, actor="bob"), tmp_path, server.base_url)
        ben = desktop(pg_url, tmp_path, 1, "ben-laptop", LEASE_S)
        team = None
        try:
            qtbot.waitUntil(lambda: len(server.bodies) == 1, timeout=60_000)
            qtbot.waitUntil(lambda: scene.statuses() == ["applying"] * 3, timeout=WAIT_MS)
            for stem in ("a", "b"):  # written already; the batch is not recorded yet
                assert (scene.out / f"invoice-{stem}.txt").read_text() == f"{stem} of invoice"
            page = ana.page(nav.INBOX)
            go_to(qtbot, ana, 2)

            def applying_on_ben(down: bool):
                def shown() -> bool:
                    texts = _statuses(page)
                    return all(
                        texts.get(w, "").startswith("applying on ben-laptop:")
                        and ("(engine down)" in texts[w]) == down
                        for w in scene.writes
                    )

                return shown

            qtbot.waitUntil(applying_on_ben(False), timeout=WAIT_MS)

            ben.send_signal(signal.SIGKILL)
            ben.wait(10)
            server.released.set()
            # Past his lease every console judges his engine down, with what it held.
            qtbot.waitUntil(
                lambda: _engine(lead, "ben-laptop") == ("down", 0, 3),
                timeout=LEASE_S * 1000 + WAIT_MS,
            )
            _shown_again(qtbot, ana)
            qtbot.waitUntil(applying_on_ben(True), timeout=WAIT_MS)
            assert scene.statuses() == ["applying"] * 3  # Ana's engine (no pool) took none

            # The team server's engine starts and takes over: his files are finished...
            team = desktop(pg_url, tmp_path, 2, "team-server-1", LEASE_S)
            qtbot.waitUntil(lambda: engine_up("team-server-1"), timeout=60_000)
            qtbot.waitUntil(
                lambda: scene.statuses() == ["applied", "applied", "interrupted"],
                timeout=WAIT_MS,
            )
            # ... and the request waits in Ana's inbox as interrupted, for a person.
            qtbot.waitUntil(lambda: shown_ids(page) == [scene.request], timeout=WAIT_MS)
            qtbot.waitUntil(lambda: _statuses(page)[scene.request] == "interrupted")
            # it holds nothing now (an engine's start forgets a crashed one holding nothing)
            assert _engine(lead, "ben-laptop") in {None, ("down", 0, 0)}

            _ana_marks_it_applied(qtbot, page, scene)
            for w in scene.files:  # applied once, by the pool
                assert scene.count("write.resumed", w) == 1
                assert scene.count("write.applied", w) == 1
            assert len(server.bodies) == 1  # the request was never sent twice
            hosts = scene.applying_hosts()
            assert all(h.startswith(("ben-laptop:", "team-server-1:")) for h in hosts)
        finally:
            if ben.poll() is None:
                ben.kill()
                ben.wait(10)
            if team is not None:
                assert stop_engine(team) == 0


def _ana_marks_it_applied(qtbot, page, scene) -> None:
    """She checks with the receiving system, then marks it applied, with clicks."""
    click_row(qtbot, page, scene.request)
    bar = page.decisions
    qtbot.waitUntil(lambda: bar.mark_applied.isVisible() and bar.retry.isVisible())
    qtbot.mouseClick(bar.comment, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(bar.comment, "the hook received it before the laptop died")
    decide(qtbot, page, bar.mark_applied)
    w = Write.get_by_id(scene.request)
    assert (w.status, w.decided_by) == ("applied", "ana")
    assert w.comment == "the hook received it before the laptop died"
    assert scene.count("write.marked_applied", scene.request) == 1
    qtbot.waitUntil(lambda: shown_ids(page) == [], timeout=WAIT_MS)


def _engine(console: Console, name: str) -> tuple[str, int, int] | None:
    """The newest instance of the engine `name`: (state, runs held, writes held)."""
    row = next((r for r in console.engines() if r.name == name), None)  # newest first
    return None if row is None else (row.state, row.runs_held, row.writes_held)
