"""Applied file writes made one engine step at a time (plan, approve, apply with the
real write_file action and its undo store), for the undo tests and the CLI."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sophmate_desktop.domain.enums import EffectKind
from sophmate_desktop.engine.actions.base import ApplyContext, PlannedWrite
from sophmate_desktop.engine.actions.files import WriteFile
from sophmate_desktop.store.models import Write
from sophmate_desktop.store.transitions import outcomes
from sophmate_desktop.store.undo_blobs import undo_dir_of
from tests.support.run_flow import HOST, Flow


def file_write(path: Path, content: str) -> PlannedWrite:
    sha = hashlib.sha256(content.encode()).hexdigest()
    payload = {"path": str(path), "content": content, "sha256": sha, "scope": [str(path.parent)]}
    return PlannedWrite("write_file", EffectKind.FILE, str(path), f"write {path}", "+", payload)


def apply_for_real(db, write_id: int) -> None:
    """What the engine's applier does with an approved write, on this thread."""
    write, why = outcomes.begin_apply(db, write_id, HOST)
    assert write is not None, why
    ctx = ApplyContext(
        idempotency_key=write.idempotency_key,
        secret=lambda name: "",
        connections={},
        undo_dir=undo_dir_of(db),
    )
    result = WriteFile().apply(write.payload, ctx)
    outcomes.finish_apply(db, write_id, undo=result.undo, bytes_written=result.bytes_written)


def applied_run(flow: Flow, planned: list[PlannedWrite], trigger: str = "acme-17.csv") -> int:
    """A run whose file writes are applied (the others only approved and marked)."""
    run_id = flow.offer(f"/srv/in/invoices/{trigger}")
    flow.claim(run_id)
    flow.plan(run_id, planned)
    ids = flow.writes(run_id)
    assert all(r.ok for r in flow.console.approve(ids))
    for w in Write.select().where(Write.id.in_(ids)).order_by(Write.seq):
        if w.kind == "write_file":
            apply_for_real(flow.db, w.id)
        else:
            flow.apply(w.id)
    return run_id
