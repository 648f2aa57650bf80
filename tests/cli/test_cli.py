"""The command line in-process: every command's happy path, exit codes and messages."""

from __future__ import annotations

import csv
import io
import sqlite3
import sys
from pathlib import Path

import keyring
import pytest

from sophmate_desktop import __version__, app, cli
from sophmate_desktop.domain.errors import ExitCode
from sophmate_desktop.secrets import INSECURE_ENV, SERVICE
from tests.support.cli import INVOICE, REPORTS, WEBHOOK, Cli, add_run
from tests.support.inmemory_keyring import PlaintextMemoryKeyring

# --- global options, help --------------------------------------------------------------


def test_version_and_help_open_no_database(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'never.sqlite3'}"
    assert app.main(["--db", url, "--version"]) == 0
    assert capsys.readouterr().out.strip() == f"sophmate-desktop {__version__}"
    assert app.main(["--db", url, "--help"]) == 0
    text = capsys.readouterr().out
    for command in ("workflow", "category", "effect", "held", "inbox", "runs", "review"):
        assert command in text
    assert "examples:" in text and "exit codes" in text
    assert app.main(["inbox", "--help"]) == 0
    assert "mark-applied" in capsys.readouterr().out
    assert not (tmp_path / "never.sqlite3").exists()


def test_help_says_that_no_command_opens_the_window(capsys) -> None:
    assert app.main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "usage: sophmate-desktop" in text
    assert "Without a command the desktop window opens" in " ".join(text.split())


def test_usage_errors_exit_2_naming_the_argument(cli: Cli) -> None:
    result = cli("workflow", "promote", "x", "--to", "prod")
    assert result.code == 2
    assert "argument --to: invalid choice: 'prod'" in result.err
    result = cli("inbox", "approve", "seven")
    assert result.code == 2 and "argument ID: not a whole number: 'seven'" in result.err
    result = cli("audit", "list", "--since", "yesterday")
    assert result.code == 2 and "argument --since: not an ISO date" in result.err
    result = cli("frobnicate")
    assert result.code == 2 and "invalid choice: 'frobnicate'" in result.err


def test_blank_actor_is_refused(sqlite_url: str, capsys) -> None:
    assert app.main(["--db", sqlite_url, "--actor", " ", "workflow", "list"]) == 2
    assert "argument --actor: must not be empty" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://host/db", "unsupported database URL scheme 'ftp'"),
        ("sqlite://relative", "bad SQLite URL"),
    ],
)
def test_bad_db_url_exits_2(url: str, message: str, capsys) -> None:
    assert app.main(["--db", url, "workflow", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_an_unreachable_database_exits_with_its_own_code(capsys) -> None:
    url, message = "postgresql://ops:hunter22@127.0.0.1:1/sophmate", "cannot connect to"
    assert app.main(["--db", url, "workflow", "list"]) == ExitCode.DB_UNREACHABLE
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert "hunter22" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_file_that_is_not_a_database_exits_2(tmp_path: Path, capsys) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\n")
    assert app.main(["--db", f"sqlite:///{notes}", "workflow", "list"]) == 2
    assert "is not a SQLite database" in capsys.readouterr().err


def test_db_comes_from_the_environment(tmp_path: Path, monkeypatch, capsys) -> None:
    path = tmp_path / "env.sqlite3"
    monkeypatch.setenv("SOPHMATE_DB", f"sqlite:///{path}")
    assert app.main(["init"]) == 0
    assert app.main(["--actor", "ana", "workflow", "import", str(REPORTS)]) == 0
    assert path.exists()
    assert app.main(["workflow", "list", "--json"]) == 0
    assert "report-archive" in capsys.readouterr().out


# --- workflows -------------------------------------------------------------------------


def test_workflow_import_list_show_export(any_cli: Cli, tmp_path: Path) -> None:
    result = any_cli("workflow", "import", INVOICE)
    assert result.code == 0, result.err
    assert "saved workflow invoice-intake (revision 1, stage dry_run)" in result.out
    assert "needs: notification path, rollback path" in result.out
    assert any_cli("workflow", "import", REPORTS).code == 0

    table = any_cli("workflow", "list").out.splitlines()
    assert table[0].split()[:3] == ["NAME", "CATEGORY", "STAGE"]
    assert table[1].startswith("invoice-intake") and "missing notification path" in table[1]
    assert table[2].startswith("report-archive") and table[2].endswith("complete")
    rows = any_cli("workflow", "list", "--json").json()
    assert [r["name"] for r in rows] == ["invoice-intake", "report-archive"]
    assert rows[0]["missing_checklist"] == ["notification path", "rollback path"]

    show = any_cli("workflow", "show", "invoice-intake").out
    assert "checklist:" in show and "missing notification path, rollback path" in show
    assert "2. send_email via supplier-smtp (customer-facing)" in show
    assert "not yet: cannot promote to staging: needs 1 reviewed successful dry run" in show
    doc = any_cli("workflow", "show", "report-archive", "--json").json()
    assert doc["workflow"]["stage"] == "dry_run"
    assert doc["promotion"]["to"] == "staging" and doc["promotion"]["allowed"] is False
    assert [s["action"] for s in doc["steps"]] == ["copy_file", "write_file"]

    exported = any_cli("workflow", "export", "report-archive")
    assert exported.code == 0 and exported.out.startswith("name: report-archive")
    target = tmp_path / "out.yaml"
    result = any_cli("workflow", "export", "report-archive", "-o", target)
    assert result.code == 0 and target.read_text() == exported.out
    # The exported file imports back unchanged: still revision 1.
    assert "revision 1" in any_cli("workflow", "import", target).out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "(document): the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff\xfe", "not a text file"),
        (b"- one\n- two\n", "expected a mapping of workflow fields, got a list"),
        (INVOICE.read_bytes().replace(b"\nowner:", b"\nowenr:"), "owenr: unknown key"),
    ],
    ids=["empty", "binary", "yaml-list", "key-typo"],
)
def test_workflow_import_bad_files_exit_2(
    cli: Cli, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    result = cli("workflow", "import", path)
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert all(line.startswith(f"error: {path}: ") for line in lines), result.err
    assert message in result.err
    assert cli("workflow", "list", "--json").json() == []


def test_key_typo_suggests_the_field(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_bytes(INVOICE.read_bytes().replace(b"\nowner:", b"\nowenr:"))
    assert "did you mean 'owner'" in cli("workflow", "import", path).err


def test_workflow_import_missing_file(cli: Cli, tmp_path: Path) -> None:
    result = cli("workflow", "import", tmp_path / "nope.yaml")
    assert result.code == 2 and "nope.yaml: no such file" in result.err


def test_unknown_workflow_exits_2(cli: Cli) -> None:
    for args in (
        ("workflow", "show", "ghost"),
        ("workflow", "export", "ghost"),
        ("workflow", "enable", "ghost"),
        ("workflow", "promote", "ghost", "--to", "staging"),
        ("review", "ghost", "--kind", "monthly"),
        ("runs", "list", "--workflow", "ghost"),
    ):
        result = cli(*args)
        assert result.code == 2, args
        assert result.err.strip() == "error: no workflow named 'ghost'"


def test_enable_refused_names_the_missing_items(any_cli: Cli) -> None:
    any_cli("workflow", "import", INVOICE)
    result = any_cli("workflow", "enable", "invoice-intake")
    assert result.code == 3
    assert result.err.strip() == (
        "refused: cannot enable invoice-intake: missing notification path, rollback path"
    )
    assert (
        any_cli("workflow", "show", "invoice-intake", "--json").json()["workflow"]["enabled"]
        is False
    )


def test_enable_and_disable(cli: Cli, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # the example watches ~/reports/outgoing
    cli("workflow", "import", REPORTS)
    result = cli("workflow", "enable", "report-archive")
    assert result.code == 2
    folder = tmp_path / "reports" / "outgoing"
    assert result.err == (
        f"error: report-archive: its watched folder {folder} does not exist; create it first "
        "(or enable with --create-folder)\n"
    )
    assert cli("workflow", "list", "--json").json()[0]["enabled"] is False
    result = cli("workflow", "enable", "report-archive", "--create-folder")
    assert result.code == 0 and "workflow report-archive enabled" in result.out
    assert folder.is_dir()
    enabled = cli("audit", "list", "--json").json()[0]
    assert enabled["details"]["created_folder"] == str(folder)
    assert cli("workflow", "list", "--json").json()[0]["enabled"] is True
    result = cli("workflow", "disable", "report-archive", "--reason", "quarter end")
    assert result.code == 0 and "disabled" in result.out
    assert cli("workflow", "list", "--json").json()[0]["enabled"] is False
    actions = [e["action"] for e in cli("audit", "list", "--json").json()]
    assert actions[:2] == ["workflow.disabled", "workflow.enabled"]


def test_promote_refused_then_allowed_after_a_reviewed_dry_run(any_cli: Cli) -> None:
    any_cli("workflow", "import", REPORTS, actor="lead")
    result = any_cli("workflow", "promote", "report-archive", "--to", "staging")
    assert result.code == 3
    assert result.err.startswith("refused: ")
    assert "1 reviewed successful dry run" in result.err

    add_run(any_cli.url, "report-archive", status="succeeded", mode="dry_run")
    result = any_cli("review", "report-archive", "--kind", "first_run", "--notes", "looks right")
    assert result.code == 0
    ana = any_cli.who("ana")
    assert result.out.strip() == f"first_run review of report-archive recorded by {ana}"
    result = any_cli("workflow", "promote", "report-archive", "--to", "staging")
    assert result.code == 0 and "now in staging" in result.out
    show = any_cli("workflow", "show", "report-archive").out
    assert "needs 3 reviewed successful staging runs" in show
    result = any_cli("workflow", "promote", "report-archive", "--to", "dry_run")
    assert result.code == 0 and "now in dry_run" in result.out


def test_review_kind_is_checked(cli: Cli) -> None:
    cli("workflow", "import", REPORTS)
    result = cli("review", "report-archive", "--kind", "weekly")
    assert result.code == 2 and "argument --kind: invalid choice: 'weekly'" in result.err


# --- kill switches and held runs -------------------------------------------------------


def test_category_pause_needs_a_reason(cli: Cli) -> None:
    cli("workflow", "import", INVOICE)
    result = cli("category", "pause", "finance")
    assert result.code == 2
    assert "the following arguments are required: --reason" in result.err
    result = cli("category", "pause", "finance", "--reason", "   ")
    assert result.code == 2 and "--reason" in result.err
    assert cli("category", "list", "--json").json()[1]["paused"] is False


def test_category_pause_list_resume(cli: Cli) -> None:
    cli("workflow", "import", INVOICE)
    cli("workflow", "import", REPORTS)
    result = cli("category", "pause", "finance", "--reason", "bank incident", actor="bob")
    assert result.code == 0
    assert result.out.strip() == "category finance PAUSED by bob: bank incident"

    table = cli("category", "list").out.splitlines()
    assert table[0].split() == ["SCOPE", "NAME", "STATE", "BY", "SINCE", "REASON", "HELD"]
    finance = next(line for line in table if " finance " in line)
    assert "PAUSED" in finance and "bank incident" in finance
    rows = {r["name"]: r for r in cli("category", "list", "--json").json()}
    assert set(rows) == {"all", "finance", "reporting"}
    assert rows["finance"]["paused_by"] == "bob" and rows["reporting"]["paused"] is False

    assert cli("category", "pause", "nowhere", "--reason", "x").code == 2
    result = cli("category", "resume", "finance", "--reason", "fixed")
    assert result.code == 0 and "category finance running" in result.out
    assert cli("category", "list", "--json").json()[1]["paused"] is False


def test_category_name_or_all(cli: Cli) -> None:
    cli("workflow", "import", INVOICE)
    result = cli("category", "pause", "--reason", "x")
    assert result.code == 2 and "give a category name, or --all" in result.err
    result = cli("category", "pause", "finance", "--all", "--reason", "x")
    assert result.code == 2 and "not both" in result.err
    result = cli("category", "resume", "finance", "--reason", "x", "--replay", "--discard")
    assert result.code == 2 and "not allowed with argument" in result.err


def test_pause_all_holds_queued_runs_and_resume_replays_them(cli: Cli) -> None:
    cli("workflow", "import", REPORTS)
    run_id, _ = add_run(cli.url, "report-archive", status="queued")
    result = cli("category", "pause", "--all", "--reason", "datacentre move")
    assert result.code == 0
    assert "all automation PAUSED by ana: datacentre move (1 held runs)" in result.out

    held = cli("held", "list", "--json").json()
    assert [r["id"] for r in held] == [run_id] and held[0]["status"] == "held"
    assert str(run_id) in cli("held", "list").out
    result = cli("held", "replay", run_id)
    assert result.code == 3 and "refused: " in result.err and "paused" in result.err

    result = cli("category", "resume", "--all", "--reason", "moved", "--replay")
    assert result.code == 0 and "all automation running" in result.out
    assert cli("held", "list", "--json").json() == []
    assert cli("runs", "show", run_id, "--json").json()["run"]["status"] == "queued"
    replayed = cli("audit", "list", "--action", "held.replayed", "--json").json()
    assert replayed[0]["reason"] == "moved" and replayed[0]["details"]["runs"] == [run_id]


def test_resume_all_by_category_keeps_each_category_paused(cli: Cli) -> None:
    cli("workflow", "import", INVOICE)
    cli("workflow", "import", REPORTS)
    held_run, _ = add_run(cli.url, "report-archive", status="queued")
    cli("category", "pause", "--all", "--reason", "hosting incident", actor="bob")
    result = cli("category", "resume", "finance", "--by-category", "--reason", "x")
    assert result.code == 2 and "--by-category goes with --all" in result.err

    result = cli("category", "resume", "--all", "--by-category", "--reason", "over")
    assert result.code == 0, result.err
    rows = {r["name"]: r for r in cli("category", "list", "--json").json()}
    assert rows["all"]["paused"] is False
    assert rows["finance"]["paused"] and rows["reporting"]["paused"]
    assert rows["reporting"]["paused_reason"] == "hosting incident"
    assert [r["id"] for r in cli("held", "list", "--json").json()] == [held_run]
    result = cli("category", "resume", "reporting", "--reason", "checked", "--replay")
    assert result.code == 0 and cli("held", "list", "--json").json() == []


def test_held_replay_and_discard(cli: Cli) -> None:
    cli("workflow", "import", REPORTS)
    first, _ = add_run(cli.url, "report-archive", status="held")
    second, _ = add_run(cli.url, "report-archive", status="held")
    third, _ = add_run(cli.url, "report-archive", status="held")
    result = cli("held", "replay")
    assert result.code == 2 and "give run ids, or --all" in result.err
    result = cli("held", "replay", first, "--all")
    assert result.code == 2 and "not both" in result.err
    result = cli("held", "replay", 999)
    assert result.code == 2 and "not held runs: 999" in result.err

    result = cli("held", "replay", first, "--reason", "was a test file")
    assert result.code == 0 and result.out.strip() == "1 held run queued again"
    result = cli("held", "discard", "--all")
    assert result.code == 0 and result.out.strip() == "2 held runs discarded"
    statuses = {r["id"]: r["status"] for r in cli("runs", "list", "--json").json()}
    assert statuses == {first: "queued", second: "cancelled", third: "cancelled"}
    assert cli("held", "list").out.strip() == "No held runs."


def test_effect_switches(cli: Cli) -> None:
    rows = cli("effect", "list", "--json").json()
    assert {r["name"] for r in rows} == {
        "email",
        "http",
        "command",
        "file",
        "customer_facing",
        "ai",
    }
    result = cli("effect", "pause", "email", "--reason", "mail relay down")
    assert result.code == 0 and "effect email PAUSED by ana: mail relay down" in result.out
    email = next(line for line in cli("effect", "list").out.splitlines() if " email " in line)
    assert "PAUSED" in email and "mail relay down" in email
    assert cli("effect", "pause", "fax", "--reason", "x").code == 2
    assert cli("effect", "resume", "email").code == 2
    result = cli("effect", "resume", "email", "--reason", "relay back")
    assert result.code == 0 and "effect email running" in result.out


# --- the inbox -------------------------------------------------------------------------


def test_inbox_list_filters_and_json(cli: Cli) -> None:
    cli("workflow", "import", INVOICE)
    cli("workflow", "import", REPORTS)
    _, mails = add_run(cli.url, "invoice-intake", writes=2, customer_facing=True)
    _, files = add_run(
        cli.url, "report-archive", writes=1, kind="copy_file", effect="file", write_status="applied"
    )
    table = cli("inbox", "list").out.splitlines()
    assert table[0].split()[:3] == ["ID", "RUN", "WORKFLOW"]
    assert len(table) == 3  # the applied write is not in the inbox
    assert [r["id"] for r in cli("inbox", "list", "--json").json()] == mails
    every = cli("inbox", "list", "--all", "--json").json()
    assert [r["id"] for r in every] == mails + files
    assert every[0]["customer_facing"] is True and every[2]["status"] == "applied"
    assert (
        cli("inbox", "list", "--all", "--category", "reporting", "--json").json()[0]["id"]
        == files[0]
    )
    assert len(cli("inbox", "list", "--workflow", "invoice-intake", "--json").json()) == 2
    assert cli("inbox", "list", "--kind", "copy_file", "--json").json() == []
    assert cli("inbox", "list", "--category", "nowhere").out.strip() == "The inbox is empty."


def test_bulk_approve_prints_a_line_per_write(any_cli: Cli) -> None:
    any_cli("workflow", "import", INVOICE, actor="lead")
    _, ids = add_run(any_cli.url, "invoice-intake", writes=3)
    result = any_cli("inbox", "approve", *ids, "--comment", "totals checked")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [f"ok: write {i} approved" for i in ids]
    rows = any_cli("inbox", "list", "--all", "--json").json()
    assert {r["status"] for r in rows} == {"approved"}
    assert {r["decided_by"] for r in rows} == {any_cli.who("ana")}
    assert {r["comment"] for r in rows} == {"totals checked"}


def test_bulk_approve_reports_refusals_and_unknown_ids(any_cli: Cli) -> None:
    any_cli("workflow", "import", INVOICE, actor="lead")
    _, ids = add_run(any_cli.url, "invoice-intake", writes=2)
    any_cli("inbox", "approve", ids[0])
    result = any_cli("inbox", "approve", ids[0], ids[1], 9999)
    assert result.code == 3  # the highest among failures: already decided (3), unknown (2)
    assert result.out.strip() == f"ok: write {ids[1]} approved"
    assert result.err.splitlines() == [
        f"refused: write {ids[0]} is already approved by {any_cli.who('ana')}",
        "error: no write with id 9999",
    ]
    _, more = add_run(any_cli.url, "invoice-intake", writes=1)
    result = any_cli("inbox", "approve", more[0], 9998)
    assert result.code == 2 and result.out.strip() == f"ok: write {more[0]} approved"


def test_approving_a_paused_categorys_write_is_refused(any_cli: Cli) -> None:
    any_cli("workflow", "import", INVOICE, actor="lead")
    _, ids = add_run(any_cli.url, "invoice-intake", writes=1)
    any_cli("category", "pause", "finance", "--reason", "bank incident", actor="bob")
    result = any_cli("inbox", "approve", ids[0])
    assert result.code == 3
    assert result.err.startswith(f"refused: write {ids[0]} cannot be approved: category finance")
    assert f"paused by {any_cli.who('bob')}" in result.err and "bank incident" in result.err
    assert result.out == ""
    assert any_cli("inbox", "list", "--json").json()[0]["status"] == "pending"


def test_four_eyes_refuses_the_last_editor(any_cli: Cli) -> None:
    assert "four eyes: on" in any_cli("settings", "four-eyes", "on").out
    any_cli("workflow", "import", INVOICE, actor="lead")
    _, ids = add_run(any_cli.url, "invoice-intake", writes=1)
    result = any_cli("inbox", "approve", ids[0], actor="lead")
    assert result.code == 3 and result.err.startswith("refused: ")
    assert any_cli("inbox", "approve", ids[0], actor="ana").code == 0


def test_reject_needs_a_comment(cli: Cli) -> None:
    cli("workflow", "import", INVOICE)
    run_id, ids = add_run(cli.url, "invoice-intake", writes=2)
    result = cli("inbox", "reject", *ids)
    assert result.code == 2 and "required: --comment" in result.err
    result = cli("inbox", "reject", *ids, "--comment", "wrong supplier list")
    assert result.code == 0
    assert result.out.splitlines() == [f"ok: write {i} rejected" for i in ids]
    assert cli("runs", "show", run_id, "--json").json()["run"]["status"] == "rejected"


def test_interrupted_writes_mark_applied_and_retry(cli: Cli) -> None:
    cli("workflow", "import", INVOICE)
    _, ids = add_run(
        cli.url, "invoice-intake", status="applying", writes=2, write_status="interrupted"
    )
    listed = cli("inbox", "list", "--json").json()
    assert [r["status"] for r in listed] == ["interrupted", "interrupted"]
    result = cli("inbox", "mark-applied", ids[0], "--comment", "supplier confirmed")
    assert result.code == 0 and f"write {ids[0]} marked applied" in result.out
    result = cli("inbox", "retry", ids[1], "--comment", "not received")
    assert result.code == 0 and f"write {ids[1]} approved again" in result.out
    statuses = [r["status"] for r in cli("inbox", "list", "--all", "--json").json()]
    assert statuses == ["applied", "approved"]
    result = cli("inbox", "mark-applied", ids[1])
    assert result.code == 3 and "only interrupted writes" in result.err
    assert cli("inbox", "retry", 4242).code == 2


# --- runs, audit -----------------------------------------------------------------------


def test_runs_list_and_show(any_cli: Cli) -> None:
    any_cli("workflow", "import", INVOICE, actor="lead")
    any_cli("workflow", "import", REPORTS)
    done, _ = add_run(any_cli.url, "report-archive", status="succeeded", mode="dry_run")
    waiting, ids = add_run(any_cli.url, "invoice-intake", writes=2)
    any_cli("inbox", "approve", ids[0], "--comment", "ok")

    rows = any_cli("runs", "list", "--json").json()
    assert [r["id"] for r in rows] == [waiting, done]
    assert rows[0]["writes"] == 2
    only = any_cli("runs", "list", "--workflow", "report-archive", "--json").json()
    assert [r["id"] for r in only] == [done]
    assert len(any_cli("runs", "list", "--limit", "1", "--json").json()) == 1
    table = any_cli("runs", "list").out.splitlines()
    assert table[0].split()[:4] == ["ID", "WORKFLOW", "MODE", "STATUS"]

    text = any_cli("runs", "show", waiting).out
    account, details = text.split("\nDetails:\n", 1)
    assert account.startswith(f"Run {waiting} of invoice-intake")
    assert details.splitlines()[0].split() == ["run:", str(waiting)]
    assert "awaiting_approval" in details
    assert "Writes (2):" in text and "supplier1@example.test" in text
    assert "Timeline (1 audit events):" in text
    assert "write.approved" in text and f"write {ids[0]}" in text
    doc = any_cli("runs", "show", waiting, "--json").json()
    assert doc["run"]["id"] == waiting
    assert [w["status"] for w in doc["writes"]] == ["approved", "pending"]
    assert [e["action"] for e in doc["timeline"]] == ["write.approved"]
    result = any_cli("runs", "show", 777)
    assert result.code == 2 and result.err.strip() == "error: no run with id 777"


def test_audit_list_filters(cli: Cli) -> None:
    cli("workflow", "import", INVOICE, actor="lead")
    cli("workflow", "import", REPORTS, actor="ana")
    cli("category", "pause", "finance", "--reason", "audit test", actor="bob")
    events = cli("audit", "list", "--json").json()
    assert events[0]["action"] == "category.paused" and events[0]["reason"] == "audit test"
    assert [e["id"] for e in events] == sorted((e["id"] for e in events), reverse=True)
    by_bob = cli("audit", "list", "--actor", "bob", "--json").json()
    assert [e["action"] for e in by_bob] == ["category.paused"]
    imported = cli("audit", "list", "--action", "workflow.*", "--json").json()
    assert {e["workflow"] for e in imported} == {"invoice-intake", "report-archive"}
    assert {
        e["workflow"] for e in cli("audit", "list", "--workflow", "report-archive", "--json").json()
    } == {"report-archive"}
    assert (
        cli("audit", "list", "--category", "finance", "--limit", "1", "--json").json()[0]["action"]
        == "category.paused"
    )
    assert cli("audit", "list", "--since", "2000-01-01", "--json").json() == events
    assert cli("audit", "list", "--until", "2000-01-01T00:00:00Z", "--json").json() == []
    table = cli("audit", "list").out.splitlines()
    assert table[0].split()[:4] == ["ID", "AT", "ACTOR", "ACTION"]
    assert "audit test" in table[1]


def test_audit_export_and_verify(cli: Cli, tmp_path: Path, sqlite_url: str) -> None:
    cli("workflow", "import", INVOICE)
    cli("category", "pause", "finance", "--reason", "export test")
    jsonl = cli("audit", "export", "--format", "jsonl")
    assert jsonl.code == 0
    lines = [line for line in jsonl.out.splitlines() if line and '"checkpoint"' not in line]
    assert len(lines) == len(cli("audit", "list", "--json").json())
    assert '{"checkpoint": ' in jsonl.out  # the whole trail carries its checkpoints
    target = tmp_path / "audit.csv"
    result = cli("audit", "export", "--format", "csv", "-o", target, "--category", "finance")
    assert result.code == 0 and f"to {target}" in result.out
    with target.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and {r["category"] for r in rows} == {"finance"}
    assert rows[-1]["reason"] == "export test"
    result = cli("audit", "export", "--format", "xml")
    assert result.code == 2 and "invalid choice: 'xml'" in result.err
    result = cli("audit", "export", "--format", "csv", "-o", tmp_path / "no" / "such" / "x.csv")
    assert result.code == 2 and result.err.startswith("error: -o: cannot write")

    result = cli("audit", "verify")
    assert result.code == 0 and result.out.startswith("audit trail intact:")
    con = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    with con:
        con.execute("UPDATE audit_event SET reason = 'edited' WHERE action = 'category.paused'")
    con.close()
    result = cli("audit", "verify")
    assert result.code == 1
    assert "audit trail broken at event" in result.out and "edited" in result.out


# --- secrets, connections, settings ----------------------------------------------------

SECRET = "pa55-Correct-Horse-Battery"


def test_a_secret_in_an_allowed_plaintext_keyring_is_stored_with_a_warning(
    cli: Cli, monkeypatch, memory_keyring
) -> None:
    plaintext = PlaintextMemoryKeyring()
    keyring.set_keyring(plaintext)  # the memory_keyring fixture restores its own
    monkeypatch.setenv(INSECURE_ENV, "1")
    monkeypatch.setattr(sys, "stdin", io.StringIO(SECRET + "\n"))
    result = cli("secret", "set", "api")
    assert result.code == 0 and "stored in the keyring" in result.out
    assert result.err.startswith("warning: secret api is NOT protected: ")
    assert "PlaintextMemoryKeyring" in result.err and SECRET not in result.err
    assert plaintext.get_password(SERVICE, "api") == SECRET

    keyring.set_keyring(memory_keyring)
    monkeypatch.setattr(sys, "stdin", io.StringIO(SECRET + "\n"))
    secure = cli("secret", "set", "api")
    assert secure.code == 0 and secure.err == ""


def test_secret_set_list_delete_never_shows_the_value(
    cli: Cli, monkeypatch, memory_keyring, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(SECRET + "\n"))
    result = cli("secret", "set", "supplier-smtp")
    assert result.code == 0 and result.out.strip() == "secret supplier-smtp stored in the keyring"
    assert memory_keyring.get_password("sophmate-desktop", "supplier-smtp") == SECRET
    listed = cli("secret", "list", "--json").json()
    assert [r["name"] for r in listed] == ["supplier-smtp"]
    assert listed[0]["updated_by"] == "ana"
    outputs = [result, cli("secret", "list"), cli("audit", "list", "--json")]
    outputs.append(cli("audit", "export", "--format", "jsonl"))
    for r in outputs:
        assert SECRET not in r.out and SECRET not in r.err
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("sophmate.sqlite3*"))
    assert b"supplier-smtp" in stored and SECRET.encode() not in stored

    result = cli("secret", "delete", "supplier-smtp")
    assert result.code == 0 and "deleted" in result.out
    assert memory_keyring.get_password("sophmate-desktop", "supplier-smtp") is None
    assert cli("secret", "list").out.strip() == "No secrets."
    result = cli("secret", "delete", "supplier-smtp")
    assert result.code == 2 and "is not set" in result.err


@pytest.mark.parametrize("stdin", ["", "\n"], ids=["eof", "empty-line"])
def test_secret_set_refuses_an_empty_value(cli: Cli, monkeypatch, stdin: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    result = cli("secret", "set", "api")
    assert result.code == 2 and "secret value: empty" in result.err
    assert cli("secret", "list", "--json").json() == []


def test_secret_set_bad_name(cli: Cli, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(SECRET + "\n"))
    result = cli("secret", "set", "../etc")
    assert result.code == 2 and "invalid secret name" in result.err
    assert SECRET not in result.err


def test_secret_set_without_a_secure_keyring_exits_1(cli: Cli, monkeypatch) -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())  # the autouse fixture restores the previous one
    monkeypatch.setattr(sys, "stdin", io.StringIO(SECRET + "\n"))
    result = cli("secret", "set", "api")
    assert result.code == 1
    assert result.err.startswith("error: No secure keyring is available")
    assert len(result.err.strip().splitlines()) == 1 and SECRET not in result.err


def test_connection_set_and_list(cli: Cli) -> None:
    result = cli(
        "connection",
        "set",
        "supplier-smtp",
        "--kind",
        "smtp",
        "--settings",
        '{"host": "mail.example.test", "port": 587}',
        "--staging-settings",
        '{"host": "127.0.0.1", "port": 2525}',
        "--secret-ref",
        "supplier-smtp",
    )
    assert result.code == 0 and result.out.strip() == "connection supplier-smtp (smtp) created"
    rows = cli("connection", "list", "--json").json()
    assert rows[0]["settings"] == {"host": "mail.example.test", "port": 587}
    assert rows[0]["staging_settings"]["port"] == 2525 and rows[0]["secret_ref"] == "supplier-smtp"
    table = cli("connection", "list").out.splitlines()
    assert table[0].split()[:3] == ["NAME", "KIND", "SETTINGS"]
    assert "mail.example.test" in table[1]


def test_connection_change_pauses_the_workflows_that_use_it(cli: Cli) -> None:
    cli("workflow", "import", WEBHOOK)
    cli("connection", "set", "status-api", "--kind", "http", "--settings", '{"base_url": "a"}')
    cli("connection", "set", "status-api", "--kind", "http", "--settings", '{"base_url": "b"}')
    row = cli("workflow", "list", "--json").json()[0]
    assert row["paused"] is True and "status-api changed" in row["paused_reason"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ("{host", "argument --settings: not valid JSON"),
        ("[1, 2]", "argument --settings: must be a JSON object"),
        ('{"password": "hunter2"}', "settings.password: secrets are kept in the keyring"),
    ],
)
def test_connection_bad_settings_exit_2(cli: Cli, settings: str, message: str) -> None:
    result = cli("connection", "set", "c", "--kind", "smtp", "--settings", settings)
    assert result.code == 2 and message in result.err
    assert cli("connection", "list", "--json").json() == []


def test_settings_four_eyes(cli: Cli) -> None:
    assert cli("settings", "four-eyes").out.strip() == "four eyes: auto (in effect: off)"
    assert cli("settings", "four-eyes", "on").out.strip() == "four eyes: on (in effect: on)"
    assert cli("settings", "four-eyes", "off").out.strip() == "four eyes: off (in effect: off)"
    assert cli("settings", "four-eyes", "auto").code == 0
    assert cli("settings", "four-eyes", "maybe").code == 2
    changes = cli("audit", "list", "--action", "setting.changed", "--json").json()
    assert [(e["details"]["from"], e["details"]["to"]) for e in changes] == [
        (False, "auto"),
        (True, False),
        ("auto", True),
    ]


# --- unexpected errors -----------------------------------------------------------------


def test_unexpected_errors_are_one_line_without_traceback(capsys, monkeypatch) -> None:
    monkeypatch.delenv("SOPHMATE_DEBUG", raising=False)
    assert cli._report(RuntimeError("disk on fire\nsecond line")) == 1
    assert capsys.readouterr().err == "error: RuntimeError: disk on fire second line\n"
    monkeypatch.setenv("SOPHMATE_DEBUG", "1")
    try:
        raise RuntimeError("disk on fire")
    except RuntimeError as exc:
        assert cli._report(exc) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().endswith("error: RuntimeError: disk on fire")


def test_workflow_pause_and_resume(any_cli: Cli) -> None:
    any_cli("workflow", "import", REPORTS)
    run_id, _ = add_run(any_cli.url, "report-archive", status="queued")
    result = any_cli("workflow", "pause", "report-archive", "--reason", "wrong folder")
    assert result.code == 0 and "workflow report-archive paused; 1 queued run held" in result.out
    assert any_cli("workflow", "pause", "report-archive").code == 2  # --reason is required
    again = any_cli("workflow", "pause", "report-archive", "--reason", "again")
    ana = any_cli.who("ana")
    assert again.code == 0 and f"already paused by {ana}: wrong folder" in again.out
    result = any_cli("workflow", "resume", "report-archive", "--reason", "fixed", "--replay")
    assert result.code == 0, result.err
    assert f"resumed (paused by {ana}: wrong folder)" in result.out
    assert "1 held run queued again" in result.out
    assert any_cli("runs", "show", run_id, "--json").json()["run"]["status"] == "queued"
    result = any_cli("workflow", "resume", "report-archive", "--reason", "twice", "--replay")
    assert result.code == 0 and "is not paused: nothing to resume" in result.out
    assert len(any_cli("audit", "list", "--action", "workflow.resumed", "--json").json()) == 1
    assert any_cli("workflow", "resume", "nope", "--reason", "x").code == 2


def test_approving_a_paused_workflows_write_is_refused(any_cli: Cli) -> None:
    any_cli("workflow", "import", INVOICE, actor="lead")
    _, ids = add_run(any_cli.url, "invoice-intake", writes=1)
    any_cli("workflow", "pause", "invoice-intake", "--reason", "wrong rates", actor="bob")
    result = any_cli("inbox", "approve", ids[0])
    assert result.code == 3
    assert result.err.startswith(f"refused: write {ids[0]} cannot be approved: workflow")
    assert "invoice-intake is paused: wrong rates" in result.err


def test_held_replay_leaves_a_paused_workflows_runs_held(cli: Cli) -> None:
    cli("workflow", "import", INVOICE)
    cli("workflow", "import", REPORTS)
    mine, _ = add_run(cli.url, "invoice-intake", status="queued")
    other, _ = add_run(cli.url, "report-archive", status="queued")
    cli("workflow", "pause", "invoice-intake", "--reason", "bad input")
    cli("category", "pause", "reporting", "--reason", "x")
    cli("category", "resume", "reporting", "--reason", "y")
    result = cli("held", "replay", "--all")
    assert result.code == 0, result.err
    assert "1 held run queued again" in result.out
    assert f"1 held run stays held ({mine}): workflow invoice-intake is paused" in result.out
    assert cli("runs", "show", other, "--json").json()["run"]["status"] == "queued"


def test_retry_on_a_paused_workflow_says_it_waits(cli: Cli) -> None:
    cli("workflow", "import", INVOICE)
    _, ids = add_run(
        cli.url, "invoice-intake", status="applying", writes=1, write_status="interrupted"
    )
    cli("workflow", "pause", "invoice-intake", "--reason", "supplier down")
    result = cli("inbox", "retry", ids[0])
    assert result.code == 0
    assert "waits for the resume: workflow invoice-intake is paused: supplier down" in result.out


def test_manual_run_of_a_paused_workflow_is_held_exit_3(cli: Cli) -> None:
    cli("workflow", "import", REPORTS)
    cli("workflow", "pause", "report-archive", "--reason", "month end closing")
    result = cli("workflow", "run", "report-archive", "--dry-run", "--timeout", "20")
    assert result.code == 3, (result.out, result.err)
    assert result.out.startswith("held: run ")
    assert "workflow report-archive is paused: month end closing" in result.out
    [held] = cli("held", "list", "--json").json()
    assert held["status"] == "held"


def test_saving_a_revision_that_fails_the_checklist_says_it_disabled(
    cli: Cli, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "reports" / "outgoing").mkdir(parents=True)
    cli("workflow", "import", REPORTS)
    assert cli("workflow", "enable", "report-archive").code == 0
    lacking = tmp_path / "report-archive.yaml"
    lacking.write_text(
        "\n".join(
            line for line in REPORTS.read_text().splitlines() if not line.startswith("rollback:")
        )
    )
    result = cli("workflow", "import", lacking)
    assert result.code == 0, result.err
    assert "so report-archive is now DISABLED: missing" in result.out
    assert "rollback" in result.out


def test_disabling_says_its_pending_writes_stay_in_the_inbox(cli: Cli) -> None:
    cli("workflow", "import", REPORTS)
    _, ids = add_run(cli.url, "report-archive", writes=2)
    cli("workflow", "enable", "report-archive")
    result = cli("workflow", "disable", "report-archive", "--reason", "moving hosts")
    assert result.code == 0
    assert "2 pending writes stay in the inbox" in result.out
    assert [r["status"] for r in cli("inbox", "list", "--json").json()] == ["pending", "pending"]
    assert cli("inbox", "reject", ids[0], "--comment", "not now").code == 0


def test_manual_run_under_a_paused_category_names_the_switch(cli: Cli) -> None:
    cli("workflow", "import", REPORTS)
    cli("category", "pause", "reporting", "--reason", "storage migration")
    result = cli("workflow", "run", "report-archive", "--dry-run", "--timeout", "20")
    assert result.code == 3 and result.out.startswith("held: run ")
    assert "category reporting is paused" in result.out and "storage migration" in result.out
