"""Takeover inside a pool across desktops (issue 13): a desktop engine of the
`team-server` pool is killed (-9) mid-apply; another engine of the pool, on another
host (judged by its lease, not by a pid), takes its work over within lease + 5 s of the
kill: the idempotent file writes are resumed and applied once, the request waits
interrupted for a person, the run it was planning is planned again and finishes once.
An engine outside the pool takes nothing; work bound to an engine name with no living
engine of that name stays where it is, shown, until that engine comes back."""

from __future__ import annotations

import signal
import time

import pytest

from sophmate_desktop.console import Console
from sophmate_desktop.engine.binding import EngineIdentity
from sophmate_desktop.store.models import AuditEvent, EngineInstance, Run, Workflow, Write
from tests.support.engine import wait_until
from tests.support.engine_processes import stop_engine
from tests.support.holding_server import holding_server
from tests.support.pool_scene import desktop, engine_up, prepare, wait_mid_apply

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(240)]

LEASE_S = 6.0
GOAL_S = LEASE_S + 5.0  # from the kill to the work taken over


def _engines(console: Console) -> dict[str, tuple[str, int, int]]:
    """Each engine name's newest instance: (state, runs held, writes held)."""
    rows: dict[str, tuple[str, int, int]] = {}
    for row in console.engines():  # newest first
        rows.setdefault(row.name, (row.state, row.runs_held, row.writes_held))
    return rows


def test_a_pool_engine_takes_over_a_killed_desktops_writes_and_runs_within_its_lease(
    pg_db, pg_url, make_engine, tmp_path
):
    db = pg_db
    lead, bob = Console(db, actor="lead"), Console(db, actor="bob")
    # Ana's desktop engine: on this host, in no pool. It must take none of the pool's work.
    ana = make_engine(db, lead, watch=False, identity=EngineIdentity.of("ana-desk"))
    with holding_server() as server:
        scene = prepare(db, lead, bob, tmp_path, server.base_url, planning=True)
        ben = desktop(pg_url, tmp_path, 1, "ben-laptop", LEASE_S)
        team = None
        try:
            wait_mid_apply(scene, server)
            wait_until(_planning_on("ben-laptop"), 30, "ben's engine planning the queued run")
            team = desktop(pg_url, tmp_path, 2, "team-server-1", LEASE_S)
            wait_until(lambda: engine_up("team-server-1"), 60, "the team server's engine")
            assert _engines(lead)["ben-laptop"] == ("up", 1, 3)

            ben.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            ben.wait(10)
            server.released.set()  # later requests are answered at once
            scene.feed("late invoice")  # the FIFO, for the engine that plans the run again

            wait_until(
                lambda: Write.get_by_id(scene.request).status == "interrupted",
                GOAL_S + 5,
                "the request interrupted",
            )
            interrupted_s = time.monotonic() - killed
            wait_until(
                lambda: all(Write.get_by_id(w).status == "applied" for w in scene.files),
                GOAL_S + 5,
                "the file writes applied again",
            )
            applied_s = time.monotonic() - killed
            assert interrupted_s <= GOAL_S, f"taken over {interrupted_s:.1f} s after the kill"
            assert applied_s <= GOAL_S, f"files applied {applied_s:.1f} s after the kill"

            late = _late_run()
            wait_until(
                lambda: Run.get_by_id(late).status == "awaiting_approval", 30, "the late plan"
            )
            late_writes = [w.id for w in Write.select().where(Write.run == late)]
            assert all(r.ok for r in bob.approve(late_writes))
            wait_until(lambda: Run.get_by_id(late).status == "succeeded", 30, "the late run")

            _assert_taken_over_once(scene, lead, late)
            assert (scene.out / "late.txt").read_text() == "late invoice"
            # Only pool engines applied anything; Ana's engine took nothing.
            hosts = scene.applying_hosts()
            assert hosts and all(h.startswith(("ben-laptop:", "team-server-1:")) for h in hosts)
            assert not any(h.startswith(ana.identity.name) for h in hosts)
            claims = [r.claimed_by or "" for r in Run.select()]
            assert not any(c.startswith("ana-desk:") for c in claims)
            engines = _engines(lead)
            assert engines["ben-laptop"] == ("down", 0, 0)  # down, its work taken over
            assert engines["team-server-1"][0] == "up"
            assert engines["ana-desk"][0] == "up"
        finally:
            if ben.poll() is None:
                ben.kill()
                ben.wait(10)
            if team is not None:
                server.released.set()
                assert stop_engine(team) == 0
            scene.close()


def _planning_on(name: str):
    def check() -> bool:
        run = Run.select().where(Run.status == "running").first()
        return run is not None and (run.claimed_by or "").startswith(f"{name}:")

    return check


def _late_run() -> int:
    query = Run.select(Run.id).join(Workflow)
    return query.where(Workflow.name == "pool-plan", Run.mode == "staging").get().id


def _assert_taken_over_once(scene, console: Console, late: int) -> None:
    for w in scene.files:  # applied once: one resume, one applied event, one file
        assert scene.count("write.resumed", w) == 1
        assert scene.count("write.applied", w) == 1
        assert scene.count("write.interrupted", w) == 0
    for stem in ("a", "b"):
        assert (scene.out / f"invoice-{stem}.txt").read_text() == f"{stem} of invoice"
    assert sorted(p.name for p in scene.out.iterdir()) == [
        "invoice-a.txt",
        "invoice-b.txt",
        "late.txt",
    ]
    request = scene.request
    assert scene.count("write.interrupted", request) == 1
    assert scene.count("write.resumed", request) == 0
    assert scene.count("write.applied", request) == 0
    [event] = AuditEvent.select().where(
        AuditEvent.action == "write.interrupted", AuditEvent.subject == f"write {request}"
    )
    assert "the engine ben-laptop:" in event.reason and "stopped while applying" in event.reason
    assert request in {w.id for w in console.list_inbox()}  # waits for a person
    requeued = AuditEvent.select().where(
        AuditEvent.action == "run.requeued", AuditEvent.subject == f"run {late}"
    )
    assert requeued.count() == 1  # planned again once, by the pool
    assert Run.get_by_id(scene.run_id).status != "running"


def test_work_bound_to_a_dead_engine_name_waits_shown_until_that_engine_comes_back(
    pg_db, pg_url, make_engine, tmp_path
):
    db = pg_db
    lead, bob = Console(db, actor="lead"), Console(db, actor="bob")
    make_engine(db, lead, watch=False, identity=EngineIdentity.of("ana-desk"))
    with holding_server() as server:
        scene = prepare(db, lead, bob, tmp_path, server.base_url, runs_on="ben-laptop")
        ben = desktop(pg_url, tmp_path, 1, "ben-laptop", LEASE_S, pools=())
        team = again = None
        try:
            wait_mid_apply(scene, server)
            team = desktop(pg_url, tmp_path, 2, "team-server-1", LEASE_S)
            wait_until(lambda: engine_up("team-server-1"), 60, "the team server's engine")
            ben.send_signal(signal.SIGKILL)
            ben.wait(10)
            server.released.set()

            wait_until(lambda: _engines(lead)["ben-laptop"][0] == "down", 30, "ben shown down")
            # The team server looks at every heartbeat (lease / 3): two beats after ben
            # went down it has looked, and left ben's work alone, as has Ana's engine.
            wait_until(_beats("team-server-1", 2), 30, "two more beats of the team server")
            assert scene.statuses() == ["applying"] * 3
            assert _engines(lead)["ben-laptop"] == ("down", 0, 3)  # shown with what it holds
            rows = {r.id: r for r in lead.inbox_rows(0, 50)}
            assert all(rows[w].status == "applying" and rows[w].engine_down for w in scene.writes)
            assert all(rows[w].claimed_by.startswith("ben-laptop:") for w in scene.writes)
            # A desktop that starts meanwhile (its start forgets dead engines that hold
            # nothing) keeps ben's row: his claims are still judged by it.
            make_engine(db, lead, watch=False, identity=EngineIdentity.of("cy-desk"))
            assert _engines(lead)["ben-laptop"] == ("down", 0, 3)
            assert scene.statuses() == ["applying"] * 3

            # Ben's laptop comes back: its engine takes its own work over at its start.
            again = desktop(pg_url, tmp_path, 3, "ben-laptop", LEASE_S, pools=())
            wait_until(
                lambda: scene.statuses() == ["applied", "applied", "interrupted"],
                30,
                "ben's engine to take its work over",
            )
            for w in scene.files:
                assert scene.count("write.applied", w) == 1
            hosts = scene.applying_hosts()
            assert hosts and all(h.startswith("ben-laptop:") for h in hosts)
            assert len(server.bodies) == 1  # the request was never sent again
        finally:
            for proc in (ben,):
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(10)
            for proc in (team, again):
                if proc is not None:
                    assert stop_engine(proc) == 0


def _beats(name: str, more: int):
    """A check that holds once the engine `name` has heartbeaten `more` times more."""
    seen: list[object] = []

    def check() -> bool:
        row = EngineInstance.get(EngineInstance.name == name, EngineInstance.stopped_at.is_null())
        if not seen or seen[-1] != row.heartbeat_at:
            seen.append(row.heartbeat_at)
        return len(seen) > more

    return check
