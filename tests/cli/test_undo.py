"""`runs undo RUN` and `inbox undo WRITE`: the undo goes to the inbox (exit 0); a
target changed since it was applied, or an e-mail, is refused (exit 3, reason given)."""

from __future__ import annotations

from pathlib import Path

from sophmate_desktop.console import Console
from sophmate_desktop.store.database import open_database, write_transaction
from sophmate_desktop.store.models import Workflow, Write
from tests.support.run_flow import WORKFLOW, Flow, email
from tests.support.undo import applied_run, file_write


def _applied(url: str, out: Path) -> tuple[int, list[int]]:
    db = open_database(url)
    try:
        Console(db, actor="lead").import_workflow(WORKFLOW)
        with write_transaction(db):
            Workflow.update(stage="staging", enabled=True).execute()
        planned = [file_write(out / "a.txt", "one"), file_write(out / "b.txt", "two"), email(1)]
        run_id = applied_run(Flow(db, Console(db, actor="ana")), planned)
        ids = [w.id for w in Write.select().where(Write.run == run_id).order_by(Write.seq)]
        return run_id, ids
    finally:
        db.close()


def test_runs_undo_puts_the_undo_writes_in_the_inbox(cli, sqlite_url, tmp_path) -> None:
    run_id, _ = _applied(sqlite_url, tmp_path / "out")
    done = cli("runs", "undo", run_id)
    assert done.code == 0, done.err
    assert "2 undo writes of invoice-intake in the inbox" in done.out
    assert "not undone: write" in done.out and "rollback (invoice-intake)" in done.out
    listed = cli("inbox", "list", "--json").json()
    assert sorted(w["kind"] for w in listed) == ["undo_file", "undo_file"]
    as_json = cli("runs", "undo", run_id, "--json")
    assert as_json.code == 0 and as_json.json()["writes"] == 2


def test_inbox_undo_is_refused_when_the_file_changed(cli, sqlite_url, tmp_path) -> None:
    out = tmp_path / "out"
    _, (first, _second, mail) = _applied(sqlite_url, out)
    (out / "a.txt").write_text("edited")
    refused = cli("inbox", "undo", first)
    assert refused.code == 3
    assert "the file changed since it was applied" in refused.err
    mail_refused = cli("inbox", "undo", mail)
    assert mail_refused.code == 3 and "Delete the written file." in mail_refused.err
    assert cli("inbox", "undo", 999999).code == 2


def test_undo_retention_is_shown_and_set(cli, sqlite_url) -> None:
    shown = cli("settings", "undo-retention")
    assert (shown.code, shown.out.strip()) == (
        0,
        "previous file contents are kept 30 days for undo",
    )
    assert cli("settings", "undo-retention", "7").out.strip().endswith("kept 7 days for undo")
    assert cli("settings", "undo-retention").out.strip().endswith("kept 7 days for undo")
    assert cli("settings", "undo-retention", "0").code == 2  # a whole number of days >= 1
    events = cli("audit", "list", "--json").json()
    assert [e["subject"] for e in events if e["action"] == "setting.changed"] == [
        "undo_retention_days"
    ]
