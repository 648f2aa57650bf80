"""The first start: the welcome page, what it says, and its first steps."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt

from sophmate_desktop.resources import example_workflows
from sophmate_desktop.secrets import INSECURE_ENV
from sophmate_desktop.store.database import default_db_url
from sophmate_desktop.ui import navigator as nav
from tests.support.inmemory_keyring import PlaintextMemoryKeyring


def _welcome(qtbot, window):
    window.show()
    page = window.page(nav.WELCOME)
    qtbot.waitUntil(lambda: page.keyring_label.level in ("ok", "warning", "error"), timeout=5000)
    return page


def test_the_welcome_page_opens_on_a_new_database_only(qtbot, make_window, sqlite_url):
    path = sqlite_url.removeprefix("sqlite:///")
    first = make_window("ana")
    assert first.current_page_key() == nav.WELCOME
    page = _welcome(qtbot, first)
    assert path in page.data_label.text()
    assert "created this file because no database existed there" in page.data_label.text()
    assert page.keyring_label.level == "ok"
    assert "The keyring works" in page.keyring_label.text()
    assert page.user_label.text().startswith("You are working as ana")
    assert "--actor NAME" in page.user_label.text()

    again = make_window("ana")
    assert again.current_page_key() == nav.DASHBOARD
    welcome_row = next(
        again.page_list.item(r)
        for r in range(again.page_list.count())
        if again.page_list.item(r).data(Qt.ItemDataRole.UserRole) == nav.WELCOME
    )
    assert welcome_row.isHidden()


def test_load_the_example_workflows(qtbot, make_window):
    window = make_window("ana")
    page = _welcome(qtbot, window)
    qtbot.mouseClick(page.examples_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.status.level == "ok", timeout=5000)
    expected = sorted(p.stem for p in example_workflows())
    workflows = window.services.console.list_workflows()
    assert sorted(w.name for w in workflows) == expected
    assert all(w.stage == "dry_run" and not w.enabled for w in workflows)
    assert f"Imported {len(expected)} example workflows" in page.status.text()

    qtbot.mouseClick(page.examples_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Already there" in page.status.text(), timeout=5000)
    assert len(window.services.console.list_workflows()) == len(expected)


def test_a_keyring_that_cannot_keep_secrets_is_explained_with_the_fix(qtbot, make_window):
    keyring.set_keyring(fail.Keyring())  # the memory_keyring fixture restores its own
    page = _welcome(qtbot, make_window("ana"))
    qtbot.waitUntil(lambda: page.keyring_label.level == "error", timeout=5000)
    text = page.keyring_label.text()
    assert "not usable" in text
    assert "gnome-keyring" in text and "KWallet" in text
    assert "SOPHMATE_ALLOW_INSECURE_KEYRING=1" in text


def test_an_allowed_plaintext_keyring_is_a_warning_never_green(qtbot, make_window, monkeypatch):
    monkeypatch.setenv(INSECURE_ENV, "1")
    keyring.set_keyring(PlaintextMemoryKeyring())  # the memory_keyring fixture restores its own
    page = _welcome(qtbot, make_window("ana"))
    assert page.keyring_label.level == "warning"
    assert "NOT protected" in page.keyring_label.text()
    assert "PlaintextMemoryKeyring" in page.keyring_label.text()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://ops:pw@db.example.test/sophmate", "unsupported database URL scheme 'mysql'"),
        ("sqlite:////tmp/team.sqlite3", "a team database is PostgreSQL"),
        ("postgresql://ops:topsecret@127.0.0.1:1/sophmate", "cannot connect to postgresql://"),
    ],
)
def test_the_team_database_dialog_explains_a_wrong_url(qtbot, make_window, url, expected):
    page = _welcome(qtbot, make_window("ana"))
    qtbot.mouseClick(page.team_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert dialog is not None and dialog.isVisible()
    assert not dialog.test_button.isEnabled()  # nothing typed yet
    qtbot.keyClicks(dialog.url_edit, url)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    assert not dialog.test_button.isEnabled()  # while the test runs
    qtbot.waitUntil(lambda: dialog.result.level == "error", timeout=10_000)
    assert expected in dialog.result.text()
    assert "topsecret" not in dialog.result.text()
    assert not dialog.use_button.isEnabled()
    assert dialog.test_button.isEnabled()
    dialog.reject()


@pytest.mark.postgres
def test_the_team_database_is_tested_then_remembered_for_the_next_start(
    qtbot, make_window, reachable_pg_url
):
    page = _welcome(qtbot, make_window("ana"))
    qtbot.mouseClick(page.team_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    qtbot.keyClicks(dialog.url_edit, reachable_pg_url)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.result.level == "ok", timeout=10_000)
    assert "Connected to postgresql://" in dialog.result.text()
    assert dialog.use_button.isEnabled()

    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert default_db_url() == reachable_pg_url
    assert "start it again" in dialog.result.text()
    assert "no longer used" not in dialog.result.text()  # this test's db is not the local one
    assert "From the next start" in page.status.text()
    password = reachable_pg_url.split(":")[2].split("@")[0]
    assert f":{password}@" not in dialog.result.text() + page.status.text()


def test_load_the_demo_shows_its_progress(qtbot, make_window, sqlite_url):
    window = make_window("ana")
    page = _welcome(qtbot, window)
    qtbot.mouseClick(page.demo_button, Qt.MouseButton.LeftButton)
    assert not page.demo_button.isEnabled() and page.busy.isVisible()
    qtbot.waitUntil(lambda: page.status.level in ("ok", "error"), timeout=60_000)
    assert page.status.level == "ok", page.status.text()
    assert page.status.text().startswith("Demo loaded: 4 workflows")
    log = page.demo_log.toPlainText()
    assert "imported invoice-intake" in log and "run 2 of status-webhook: failed" in log
    assert page.demo_button.isEnabled() and not page.busy.isVisible()
    demo = page.services.console.demo_folder()
    assert demo.parent.as_posix() == sqlite_url.removeprefix("sqlite:///").rsplit("/", 1)[0]
    assert (demo / "invoices" / "incoming").is_dir()
    assert len(window.services.console.list_inbox(limit=100)) >= 2
