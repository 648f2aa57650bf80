"""The operator's day on the command line: reviews due, escalations, retrying a run,
reading a write's preview, --json on every verb that changes state, and what a
connection change paused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import REPORTS, WEBHOOK, Cli, add_run

NEW_FILE = "new file: /srv/out/receipt.txt\nArchived a.pdf\nRun: 7"
DIFF = "--- /srv/out/r.txt\n+++ /srv/out/r.txt\n@@ -1 +1 @@\n-old line\n+new line"
COMMAND = "rsync -a '/srv/in/my file.pdf' /srv/archive/\ncwd: /srv"
EMAIL = "To: ops@example.test\nSubject: Invoice 7\n\nInvoice 7 received."


def _change_connection(cli: Cli) -> Cli:
    """status-webhook uses status-api; changing it pauses the workflow."""
    assert cli("workflow", "import", WEBHOOK).code == 0
    assert cli("connection", "set", "status-api", "--kind", "http", "--settings", "{}").code == 0
    return cli


# --- reviews due, escalations -------------------------------------------------------------


def test_reviews_due_lists_the_provider_change_review(any_cli: Cli) -> None:
    assert any_cli("reviews", "due").out.strip() == "No reviews are due."
    assert any_cli("reviews", "due", "--json").json() == []
    _change_connection(any_cli)
    settings = '{"base_url": "https://status.example.test"}'
    done = any_cli("connection", "set", "status-api", "--kind", "http", "--settings", settings)
    assert done.code == 0
    table = any_cli("reviews", "due").out.splitlines()
    assert table[0].split()[:4] == ["WORKFLOW", "KIND", "STATE", "SINCE"]
    assert ["status-webhook", "provider_change"] in [line.split()[:2] for line in table[1:]]
    rows = any_cli("reviews", "due", "--json").json()
    assert {
        "workflow": "status-webhook",
        "kind": "provider_change",
        "owner": "platform-team",
    }.items() <= next(r for r in rows if r["kind"] == "provider_change").items()
    review = any_cli("review", "status-webhook", "--kind", "provider_change", actor="bob")
    assert review.code == 0, review.err
    kinds = [r["kind"] for r in any_cli("reviews", "due", "--json").json()]
    assert "provider_change" not in kinds


def test_workflow_list_escalated_gives_the_reasons(any_cli: Cli) -> None:
    assert any_cli("workflow", "import", REPORTS).code == 0
    assert any_cli("workflow", "list", "--escalated", "--json").json() == []
    assert any_cli("workflow", "list", "--escalated").out.strip() == "No escalated workflows."
    _change_connection(any_cli)
    settings = '{"base_url": "https://status.example.test"}'
    any_cli("connection", "set", "status-api", "--kind", "http", "--settings", settings)
    [row] = any_cli("workflow", "list", "--escalated", "--json").json()
    assert row["workflow"] == "status-webhook"
    assert any("paused" in reason for reason in row["reasons"]), row
    table = any_cli("workflow", "list", "--escalated").out.splitlines()
    assert table[0].split() == ["WORKFLOW", "CATEGORY", "STAGE", "OWNER", "REASONS"]
    assert table[1].startswith("status-webhook") and "paused" in table[1]
    assert len(any_cli("workflow", "list", "--json").json()) == 2  # the plain list is whole


# --- connection set names what it paused --------------------------------------------------


def test_connection_set_names_the_workflows_it_paused(any_cli: Cli) -> None:
    _change_connection(any_cli)
    done = any_cli("connection", "set", "status-api", "--kind", "http", "--settings", '{"a": 1}')
    assert done.code == 0
    lines = done.out.strip().splitlines()
    assert lines[0] == "connection status-api (http) changed"
    assert lines[1].startswith("paused the workflows that use it: status-webhook;")
    assert "workflow resume NAME" in lines[1]
    same = any_cli(
        "connection", "set", "status-api", "--kind", "http", "--settings", '{"a": 1}', "--json"
    ).json()
    assert (same["created"], same["changed"], same["paused"]) == (False, False, [])
    again = any_cli(
        "connection", "set", "status-api", "--kind", "http", "--settings", '{"a": 2}', "--json"
    ).json()
    assert again["changed"] is True and again["connection"]["settings"] == {"a": 2}
    assert again["paused"] == []  # already paused by the change before
    assert again["reviews_due"] == ["status-webhook"]


# --- runs retry, runs list/show errors, owner, rollback -----------------------------------


def test_runs_retry_queues_a_new_run_of_a_failed_one(any_cli: Cli) -> None:
    any_cli("workflow", "import", REPORTS)
    failed, _ = add_run(any_cli.url, "report-archive", status="failed", mode="dry_run")
    done = any_cli("runs", "retry", failed, "--reason", "disk was full")
    assert done.code == 0, done.err
    assert f"a retry of run {failed} (report-archive, queued)" in done.out
    runs = any_cli("runs", "list", "--json").json()
    assert [(r["status"], r["trigger_kind"]) for r in runs][:1] == [("queued", "retry")]
    as_json = any_cli("runs", "retry", failed, "--json")
    assert as_json.code == 0 and as_json.json()["trigger_kind"] == "retry"

    waiting, _ = add_run(any_cli.url, "report-archive", status="awaiting_approval")
    refused = any_cli("runs", "retry", waiting)
    assert refused.code == 3 and "only failed runs can be retried" in refused.err
    missing = any_cli("runs", "retry", 9999)
    assert missing.code == 2 and "no run with id 9999" in missing.err


def test_a_run_failed_on_a_write_shows_the_write_error_owner_and_rollback(any_cli: Cli) -> None:
    any_cli("workflow", "import", REPORTS)
    run_id, [write] = add_run(
        any_cli.url,
        "report-archive",
        status="failed",
        writes=1,
        write_status="failed",
        kind="write_file",
        effect="file",
        write_error="permission denied: /srv/archive",
    )
    expected = f"permission denied: /srv/archive (write {write}, write_file to supplier1@"
    [row] = any_cli("runs", "list", "--json").json()
    assert row["error"].startswith(expected)
    assert "permission denied" in any_cli("runs", "list").out.splitlines()[1]

    text = any_cli("runs", "show", run_id).out
    assert "owner:" in text and "reporting-team" in text
    assert "rollback:" in text and "Delete the archived copies" in text
    assert expected in text
    writes_table = text.split("Writes (1):", 1)[1]
    assert "ERROR" in writes_table.splitlines()[1] and "permission denied" in writes_table
    data = any_cli("runs", "show", run_id, "--json").json()
    assert data["run"]["owner"] == "reporting-team"
    assert data["run"]["rollback"].startswith("Delete the archived copies")
    assert data["run"]["error"].startswith(expected)


# --- inbox show ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "effect", "preview", "expected"),
    [
        ("send_email", "email", EMAIL, EMAIL),
        ("write_file", "file", DIFF, DIFF),
        (
            "write_file",
            "file",
            NEW_FILE,
            "new file: /srv/out/receipt.txt\n@@ new file, 2 lines @@\n+Archived a.pdf\n+Run: 7",
        ),
        (
            "run_command",
            "command",
            COMMAND,
            "$ rsync -a '/srv/in/my file.pdf' /srv/archive/\n\nargv (no shell):\n  [0] rsync\n"
            "  [1] -a\n  [2] /srv/in/my file.pdf\n  [3] /srv/archive/\n\ncwd: /srv",
        ),
    ],
    ids=["email", "diff", "new-file", "argv"],
)
def test_inbox_show_prints_the_preview_as_text(
    cli: Cli, kind: str, effect: str, preview: str, expected: str
) -> None:
    cli("workflow", "import", REPORTS)
    run_id, [write] = add_run(
        cli.url, "report-archive", writes=1, kind=kind, effect=effect, preview=preview
    )
    done = cli("inbox", "show", write)
    assert done.code == 0, done.err
    facts, shown = done.out.split("\n\nPreview:\n", 1)
    assert shown.rstrip("\n") == expected
    assert f"{write} (run {run_id}, step 1)" in facts and "pending" in facts
    data = cli("inbox", "show", write, "--json").json()
    assert (data["id"], data["preview"], data["preview_text"]) == (write, preview, expected)


def test_inbox_show_on_both_databases_and_an_unknown_id(any_cli: Cli) -> None:
    any_cli("workflow", "import", REPORTS)
    _, [write] = add_run(any_cli.url, "report-archive", writes=1)
    assert "Invoice 1 received." in any_cli("inbox", "show", write).out
    missing = any_cli("inbox", "show", 9999)
    assert missing.code == 2 and "9999" in missing.err


# --- --json on the verbs that change state -------------------------------------------------


def test_approve_and_reject_with_json(any_cli: Cli) -> None:
    any_cli("workflow", "import", REPORTS)
    _, ids = add_run(any_cli.url, "report-archive", writes=3)
    done = any_cli("inbox", "approve", ids[0], 9999, "--json", actor="bob")  # four eyes
    assert done.code == 2 and done.err == ""
    first, unknown = done.json()
    assert (first["write_id"], first["ok"], first["status"]) == (ids[0], True, "approved")
    assert (unknown["write_id"], unknown["ok"]) == (9999, False) and unknown["message"]
    rejected = any_cli("inbox", "reject", ids[1], "--comment", "wrong total", "--json", actor="bob")
    assert rejected.code == 0
    assert [(r["write_id"], r["status"]) for r in rejected.json()] == [(ids[1], "rejected")]


def test_switches_with_json(any_cli: Cli) -> None:
    any_cli("workflow", "import", REPORTS)
    paused = any_cli("category", "pause", "reporting", "--reason", "disk", "--json")
    assert paused.code == 0
    row = paused.json()
    assert (row["scope"], row["name"], row["paused"], row["paused_reason"]) == (
        "category",
        "reporting",
        True,
        "disk",
    )
    resumed = any_cli("category", "resume", "reporting", "--reason", "ok", "--json").json()
    assert resumed["paused"] is False
    every = any_cli("category", "pause", "--all", "--reason", "incident", "--json").json()
    assert (every["scope"], every["paused"]) == ("global", True)
    assert (
        any_cli("category", "resume", "--all", "--reason", "over", "--json").json()["paused"]
        is False
    )
    effect = any_cli("effect", "pause", "email", "--reason", "smtp down", "--json").json()
    assert (effect["scope"], effect["name"], effect["paused"]) == ("effect", "email", True)
    assert (
        any_cli("effect", "resume", "email", "--reason", "up", "--json").json()["paused"] is False
    )


def test_audit_verify_with_json(any_cli: Cli) -> None:
    any_cli("workflow", "import", REPORTS)
    done = any_cli("audit", "verify", "--json")
    assert done.code == 0
    result = done.json()
    assert result["ok"] is True and result["checked"] >= 1 and result["first_bad_id"] is None


def test_workflow_run_with_json(cli: Cli, tmp_path: Path) -> None:
    cli("workflow", "import", REPORTS)
    report = tmp_path / "q3.pdf"
    report.write_bytes(b"%PDF-1.4 report")
    done = cli("workflow", "run", "report-archive", "--file", report, "--dry-run", "--json")
    assert done.code == 0, done.err
    data = done.json()
    assert data["run"]["workflow"] == "report-archive" and data["run"]["mode"] == "dry_run"
    assert data["run"]["status"] == "succeeded"
    assert [w["kind"] for w in data["writes"]] == ["copy_file", "write_file"]


def test_workflow_verbs_with_json(any_cli: Cli, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "reports" / "outgoing").mkdir(parents=True)
    imported = any_cli("workflow", "import", REPORTS, "--json")
    assert imported.code == 0
    assert (imported.json()["name"], imported.json()["revision"]) == ("report-archive", 1)
    enabled = any_cli("workflow", "enable", "report-archive", "--json").json()
    assert enabled["enabled"] is True
    add_run(any_cli.url, "report-archive", status="succeeded", mode="dry_run")
    review = any_cli("review", "report-archive", "--kind", "first_run", "--json").json()
    assert (review["workflow"], review["kind"], review["reviewer"]) == (
        "report-archive",
        "first_run",
        any_cli.who("ana"),
    )
    promoted = any_cli("workflow", "promote", "report-archive", "--to", "staging", "--json")
    assert promoted.code == 0 and promoted.json()["stage"] == "staging"
    disabled = any_cli("workflow", "disable", "report-archive", "--reason", "x", "--json")
    assert disabled.json()["enabled"] is False


def test_held_and_interrupted_verbs_with_json(any_cli: Cli) -> None:
    any_cli("workflow", "import", REPORTS)
    first, _ = add_run(any_cli.url, "report-archive", status="queued")
    second, _ = add_run(any_cli.url, "report-archive", status="queued")
    any_cli("category", "pause", "reporting", "--reason", "disk")
    any_cli("category", "resume", "reporting", "--reason", "ok")
    assert any_cli("held", "replay", first, "--json").json() == {"replayed": 1, "left_held": []}
    assert any_cli("held", "discard", second, "--json").json() == {"discarded": 1}

    _, ids = add_run(
        any_cli.url, "report-archive", status="applying", writes=2, write_status="interrupted"
    )
    marked = any_cli("inbox", "mark-applied", ids[0], "--json")
    assert marked.code == 0 and marked.json()["status"] == "applied"
    again = any_cli("inbox", "retry", ids[1], "--json", actor="bob")
    assert again.code == 0, again.err
    assert (again.json()["id"], again.json()["status"]) == (ids[1], "approved")
