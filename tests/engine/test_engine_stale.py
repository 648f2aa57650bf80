"""A live engine and a target changed by hand after its preview: the approved write
is not applied, it turns stale (audited) and a new pending write of the same run shows
the file as it is now; approving that one applies it and the run succeeds."""

from __future__ import annotations

from sophmate_desktop.store import audit
from sophmate_desktop.store.models import AuditEvent, Run, Write
from tests.support.engine import WRITE_COPY, pending_run, staging_workflow, wait_until


def test_a_file_changed_after_its_preview_is_planned_again_not_written(
    sqlite_db, sconsole, make_engine, tmp_path
):
    engine = make_engine(sqlite_db, sconsole, watch=False)
    out = staging_workflow(sconsole, engine, tmp_path, "filer", steps=WRITE_COPY)
    target = out / "invoice.txt"
    target.write_text("old line\n")
    [write_id] = pending_run(sconsole, engine, tmp_path, "filer", "invoice")
    run_id = Write.get_by_id(write_id).run_id
    target.write_text("edited by hand\n")  # after the preview, before the approval
    assert sconsole.approve([write_id])[0].ok
    wait_until(lambda: Write.get_by_id(write_id).status == "stale", 30, "the write to go stale")
    assert target.read_text() == "edited by hand\n"  # nothing written over the edit
    wait_until(lambda: Run.get_by_id(run_id).status == "awaiting_approval", 30, "the run")
    [old, new] = list(Write.select().where(Write.run == run_id).order_by(Write.seq))
    assert (old.id, old.status, new.status, new.seq) == (write_id, "stale", "pending", 2)
    assert "the file changed since this preview" in new.comment
    assert f"replaces write {write_id}" in new.comment
    assert "-edited by hand" in new.preview and "+invoice" in new.preview
    stale = AuditEvent.get(AuditEvent.action == "write.stale")
    assert (stale.subject, stale.details["replaced_by"]) == (f"write {write_id}", new.id)

    stale_result, approved = sconsole.approve([write_id, new.id])
    assert (stale_result.ok, stale_result.status, stale_result.exit_code) == (False, "stale", 3)
    assert f"decide write {new.id}, its new preview" in stale_result.message
    assert approved.ok
    assert engine.wait_for_run(run_id, 30, until=("succeeded", "failed")) == "succeeded"
    assert target.read_text() == "invoice"
    assert audit.verify(sqlite_db).ok
