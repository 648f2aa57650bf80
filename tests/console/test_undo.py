"""Planning undo writes: newest first, always pending, audited; refused when a target
changed; e-mail and the like cannot be undone and the refusal gives the rollback text."""

from __future__ import annotations

import os
import time

import pytest

from sophmate_desktop.domain.errors import BadInput, PolicyRefused
from sophmate_desktop.store.database import write_transaction
from sophmate_desktop.store.models import AuditEvent, Run, Workflow, Write
from sophmate_desktop.store.undo_blobs import UNDO_DIR_ENV, prune, prune_for, put_file
from tests.support.run_flow import WORKFLOW, Flow, email
from tests.support.undo import applied_run, file_write


@pytest.fixture
def flow(db, make_console, tmp_path, monkeypatch) -> Flow:
    monkeypatch.setenv(UNDO_DIR_ENV, str(tmp_path / "undo"))
    make_console("lead").import_workflow(WORKFLOW)  # four eyes: ana may approve
    with write_transaction(db):  # arranged: a staged, enabled workflow
        Workflow.update(stage="staging", enabled=True).execute()
    return Flow(db, make_console("ana"))


def test_a_run_undo_is_newest_first_pending_and_audited(flow, make_console, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("before\n")
    planned = [file_write(out / "a.txt", "after\n"), file_write(out / "b.txt", "new\n")]
    run_id = applied_run(flow, planned)
    result = flow.console.undo_run(run_id)
    writes = list(Write.select().where(Write.run == result.run.id).order_by(Write.seq))
    applied = [w.id for w in Write.select().where(Write.run == run_id).order_by(Write.id)]
    assert [w.payload["undoes"] for w in writes] == applied[::-1]
    assert [w.status for w in writes] == ["pending", "pending"]
    assert [w.payload["action"] for w in writes] == ["delete", "restore"]
    assert "-after\n" in writes[1].preview and "+before\n" in writes[1].preview
    assert Run.get_by_id(result.run.id).created_by == "ana"
    account = flow.console.run_details(result.run.id).account
    story = " ".join(account.paragraphs)
    assert f"undoes writes of run {run_id}, asked for by ana" in story
    events = AuditEvent.select().where(AuditEvent.action == "write.undo_planned")
    assert {e.actor for e in events} == {"ana"} and events.count() == 2


def test_an_email_cannot_be_undone_and_the_refusal_gives_the_rollback(flow, make_console, tmp_path):
    out = tmp_path / "out"
    planned = [email(1), file_write(out / "a.txt", "x")]
    run_id = applied_run(flow, planned)
    mail = Write.get(Write.run == run_id, Write.kind == "send_email")
    with pytest.raises(PolicyRefused, match=r"cannot be undone.*Delete the written file"):
        flow.console.undo_write(mail.id)
    result = flow.console.undo_run(run_id)
    assert result.writes == 1 and "send_email" in result.skipped[0]
    assert result.rollback == "Delete the written file."
    assert "rollback (invoice-intake): Delete the written file." in result.describe()

    only_mail = applied_run(flow, [email(2)], "acme-18.csv")
    with pytest.raises(PolicyRefused, match=r"nothing to undo.*Delete the written file"):
        flow.console.undo_run(only_mail)


def test_a_changed_target_refuses_the_whole_run(flow, make_console, tmp_path):
    out = tmp_path / "out"
    planned = [file_write(out / "a.txt", "1"), file_write(out / "b.txt", "2")]
    run_id = applied_run(flow, planned)
    (out / "b.txt").unlink()
    with pytest.raises(PolicyRefused, match=r"b\.txt: the file changed since it was applied"):
        flow.console.undo_run(run_id)
    assert Run.select().where(Run.trigger_kind == "undo").count() == 0


def test_retention_removes_old_copies_only(db, console, tmp_path, monkeypatch):
    root = tmp_path / "undo"
    monkeypatch.setenv(UNDO_DIR_ENV, str(root))
    old, new = tmp_path / "old", tmp_path / "new"
    old.write_bytes(b"old bytes")
    new.write_bytes(b"new bytes")
    old_sha, new_sha = put_file(root, old), put_file(root, new)
    aged = time.time() - 10 * 86400
    os.utime(root / old_sha[:2] / old_sha, (aged, aged))
    console.set_undo_retention(5)
    assert prune_for(db) == 1
    assert not (root / old_sha[:2] / old_sha).exists()
    assert (root / new_sha[:2] / new_sha).read_bytes() == b"new bytes"
    assert prune(root / "missing", 1) == 0
    with pytest.raises(BadInput, match="undo_retention_days"):
        console.set_undo_retention(0)
