"""`notifications list [--json]` with each notice's deliveries, `notifications ack ID`,
and `settings notify-email` (the connection `email:` targets go through)."""

from __future__ import annotations

from sophmate_desktop.store.database import open_database
from sophmate_desktop.store.models import NoticeDelivery
from tests.support.cli import Cli
from tests.support.factories import fail, workflow_yaml


def _failed_with_a_delivery(cli: Cli, tmp_path) -> int:
    text = workflow_yaml().replace(
        "notify: {on_failure: [tray]}", 'notify: {on_failure: [tray, "ntfy://ops-alerts"]}'
    )
    path = tmp_path / "wf.yaml"
    path.write_text(text)
    assert cli("workflow", "import", str(path)).code == 0
    db = open_database(cli.url)
    try:
        run = fail(db, "wf-one", "disk full")
        NoticeDelivery.update(status="failed", attempts=4, last_error="HTTP 503: busy").execute()
    finally:
        db.close()
    return run.id


def test_list_shows_each_delivery_and_ack_takes_the_notice(cli: Cli, tmp_path) -> None:
    run_id = _failed_with_a_delivery(cli, tmp_path)
    out = cli("notifications", "list").out
    assert f"wf-one: run {run_id} failed" in out
    assert "-> ntfy://ops-alerts: failed (attempts 4): HTTP 503: busy" in out
    [note] = cli("notifications", "list", "--json").json()
    assert note["deliveries"] == [
        {
            "target": "ntfy://ops-alerts",
            "status": "failed",
            "attempts": 4,
            "error": "HTTP 503: busy",
            "at": note["deliveries"][0]["at"],
        }
    ]
    done = cli("notifications", "ack", str(note["id"]), "--comment", "on it", actor="bob")
    assert done.code == 0 and "acknowledged by bob" in done.out
    again = cli("notifications", "ack", str(note["id"]))
    assert again.code != 0 and "already acknowledged by bob" in again.err
    assert "(acknowledged by bob)" in cli("notifications", "list").out


def test_ack_of_an_unknown_notice_is_bad_input(cli: Cli) -> None:
    result = cli("notifications", "ack", "999")
    assert result.code == 2 and "no notice with id 999" in result.err
    assert cli("notifications", "list").out.strip() == "No notifications."


def test_notify_email_names_an_smtp_connection(cli: Cli) -> None:
    assert "no connection" in cli("settings", "notify-email").out
    missing = cli("settings", "notify-email", "ops-mail")
    assert missing.code == 2 and "no connection named 'ops-mail'" in missing.err
    settings = '{"host": "127.0.0.1", "port": 2525}'
    assert cli("connection", "set", "ops-mail", "--kind", "smtp", "--settings", settings).code == 0
    assert "through: ops-mail" in cli("settings", "notify-email", "ops-mail").out
    assert "through: ops-mail" in cli("settings", "notify-email").out
    assert "no connection" in cli("settings", "notify-email", "--clear").out
