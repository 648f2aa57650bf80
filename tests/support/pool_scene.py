"""A desktop engine of the `team-server` pool killed mid-apply (issue 13), shared by the
engine tests, journey 5 and bench/team.py.

The scene: a workflow bound to a pool (or an engine name) whose run writes two files
and then calls an HTTP server that holds the request (tests/support/holding_server.py).
Its three writes are approved before the desktop's engine starts, so that its single
applier takes them as one batch: the two files are written (idempotent), the request
hangs (not idempotent), and the batch is not recorded yet — every write `applying`,
held by that engine, for as long as the test needs. Each engine process says it runs
on a host of its own ($SOPHMATE_ENGINE_HOST), so that the others judge it by its
lease, as they would a laptop across the network.
"""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sophmate_desktop.console import Console
from sophmate_desktop.engine.binding import EngineIdentity
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.store.models import AuditEvent, EngineInstance, Write
from tests.support.engine import to_staging, wait_until, workflow_doc
from tests.support.engine_processes import engine_process

POOL = "team-server"
CONNECTION = "pool-hook"
STEPS = f"""\
  - action: write_file
    to: "{{{{ output.path }}}}/{{{{ file.stem }}}}-a.txt"
    content: "a of {{{{ file.stem }}}}"
  - action: write_file
    to: "{{{{ output.path }}}}/{{{{ file.stem }}}}-b.txt"
    content: "b of {{{{ file.stem }}}}"
  - action: http_request
    connection: {CONNECTION}
    method: POST
    path: /hook
    json: {{run: "{{{{ run.id }}}}"}}
"""
PLAN_STEP = """\
  - action: write_file
    to: "{{ output.path }}/{{ file.stem }}.txt"
    content: "{{ input }}"
"""


def engine_args(name: str, lease_s: float, pools: tuple[str, ...] = (POOL,)) -> list[str]:
    """`engine` options: one applier, so the approved writes are taken as one batch."""
    args = ["--engine-name", name, "--lease", f"{lease_s:g}", "--appliers", "1"]
    for pool in pools:
        args += ["--pool", pool]
    return args


def desktop(
    url: str, tmp_path: Path, n: int, name: str, lease_s: float, pools: tuple[str, ...] = (POOL,)
) -> subprocess.Popen:
    """An engine process on a host of its own, named after the engine."""
    args = engine_args(name, lease_s, pools)
    return engine_process(url, tmp_path, n, *args, env={"SOPHMATE_ENGINE_HOST": f"{name}-host"})


def engine_up(name: str) -> bool:
    return (
        EngineInstance.select()
        .where(EngineInstance.name == name, EngineInstance.stopped_at.is_null())
        .exists()
    )


@dataclass
class Scene:
    out: Path
    writes: list[int]  # a, b (files), then the request
    run_id: int
    planning: Path | None = None  # a FIFO a queued run will be planned on
    feeders: list[threading.Thread] = field(default_factory=list)

    @property
    def files(self) -> list[int]:
        return self.writes[:2]

    @property
    def request(self) -> int:
        return self.writes[2]

    def applying_hosts(self) -> list[str]:
        """The claim of every `write.applying` event (which engine applied what)."""
        events = AuditEvent.select().where(AuditEvent.action == "write.applying")
        return [e.details["host"] for e in events]

    def count(self, action: str, write_id: int) -> int:
        subject = f"write {write_id}"
        return (
            AuditEvent.select()
            .where(AuditEvent.action == action, AuditEvent.subject == subject)
            .count()
        )

    def statuses(self) -> list[str]:
        return [Write.get_by_id(w).status for w in self.writes]

    def feed(self, text: str) -> None:
        """Write `text` into the FIFO once a reader (an engine planning) opens it."""
        assert self.planning is not None
        fifo = self.planning

        def body() -> None:
            with open(fifo, "w") as fh:
                fh.write(text)

        t = threading.Thread(target=body, name="fifo-feeder", daemon=True)
        t.start()
        self.feeders.append(t)

    def close(self) -> None:
        """Free a feeder still waiting for a reader."""
        if self.planning is None:
            return
        for t in self.feeders:
            if t.is_alive():
                fd = os.open(self.planning, os.O_RDONLY | os.O_NONBLOCK)
                t.join(5)
                os.close(fd)


def prepare(
    db,
    lead: Console,
    approver: Console,
    tmp_path: Path,
    base_url: str,
    *,
    runs_on: str = POOL,
    planning: bool = False,
) -> Scene:
    """The workflow in staging, one run's three writes approved (by `approver`: four
    eyes) and, with `planning`, a queued run of a second workflow whose trigger file
    is a FIFO: the engine that plans it waits in its read until the test feeds it."""
    out = tmp_path / "pool-out"
    out.mkdir()
    base = {"base_url": base_url}
    lead.save_connection(CONNECTION, "http", base, staging_settings=base)
    lead.import_workflow(
        workflow_doc("pool-intake", None, out, steps=STEPS) + f"runs_on: {runs_on}\n"
    )
    if planning:
        lead.import_workflow(
            workflow_doc("pool-plan", None, out, steps=PLAN_STEP) + f"runs_on: {runs_on}\n"
        )
    sample = tmp_path / "sample.txt"
    sample.write_text("sample")
    prep = Engine(db, watch=False, workers=1, identity=EngineIdentity.of("prep", [runs_on]))
    unsubscribe = lead.events.subscribe(prep.wake)
    prep.start()
    try:
        to_staging(lead, prep, "pool-intake", sample)
        if planning:
            to_staging(lead, prep, "pool-plan", sample)
        invoice = tmp_path / "invoice.txt"
        invoice.write_text("invoice")
        run_id = prep.run_now("pool-intake", invoice)
        assert prep.wait_for_run(run_id, 30) == "awaiting_approval", lead.get_run(run_id).error
    finally:
        prep.stop()
        unsubscribe()
    writes = [w.id for w in Write.select(Write.id).where(Write.run == run_id).order_by(Write.seq)]
    assert len(writes) == 3
    assert all(r.ok for r in approver.approve(writes))
    scene = Scene(out, writes, run_id)
    if planning:
        scene.planning = _queued_on_fifo(db, tmp_path)
    return scene


def _queued_on_fifo(db, tmp_path: Path) -> Path:
    from sophmate_desktop.engine.scan import file_version
    from sophmate_desktop.store.transitions.intake import Offer, record_batch

    path = tmp_path / "late.txt"
    path.write_text("placeholder")
    v = file_version(path)
    offer = Offer("pool-plan", "manual", path, v.size, v.mtime_ns, v.sha256, "lead", "staging")
    record_batch(db, [offer], "test")
    path.unlink()
    os.mkfifo(path)
    return path


def wait_mid_apply(scene: Scene, server, timeout: float = 60) -> None:
    """Until the engine holds all three writes applying: files written, request held."""
    assert server.wait_for(1, timeout), "the request never reached the server"
    wait_until(lambda: scene.statuses() == ["applying"] * 3, 10, "the batch applying")
    for stem in ("a", "b"):
        assert (scene.out / f"invoice-{stem}.txt").read_text() == f"{stem} of invoice"
