"""Journey 5, with three logins and their roles (issue 13, items 1-2).

The team database has three people besides its owner: Lea the lead (administrator),
Ana (approver) and Bo (operator). Bo's desktop runs the window and its engine on Bo's
own login; Ana and Lea work from their own desktops (here: their own processes, each
with its login's password in a ~/.pgpass file). Bo sets up a workflow and drops an
invoice; his inbox says he may not approve its write (the database would refuse him
anyway); Ana approves it from her desktop and Bo's engine applies it. Bo pauses the
category in an incident but may not resume it; Lea does. Every audit event names the
login that acted, and the trail is intact.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from sophmate_desktop.domain.errors import PolicyRefused
from sophmate_desktop.secrets import DB_LOGIN_SECRET, SERVICE
from sophmate_desktop.ui import navigator as nav
from sophmate_desktop.ui.widgets.switch_dialogs import SwitchDialog
from tests.support.cli import Cli
from tests.support.engine import to_staging
from tests.support.journeys.j3 import (
    WAIT_MS,
    activate,
    drop_file,
    go_to,
    intake_workflow,
    pause_switch,
)
from tests.support.paths import REPO

pytestmark = pytest.mark.postgres


class Desktop:
    """Another person's desktop: the command line in a process of its own, connecting
    with a URL that names no password (libpq finds it in the .pgpass file)."""

    def __init__(self, url: str, pgpass: Path) -> None:
        self.url = url
        self.env = {**os.environ, "PYTHONPATH": str(REPO), "PGPASSFILE": str(pgpass)}

    def __call__(self, *args: object) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "sophmate_desktop", "--db", self.url, *map(str, args)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )


def _resume_from_the_panel(qtbot, window, category: str, reason: str):
    """Click the paused switch, type the reason, press Enter; the dialog, still open."""
    activate(qtbot, window)
    panel = window.kill_switch_panel
    qtbot.mouseClick(panel.switch_button("category", category), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), SwitchDialog))
    dialog = QApplication.activeModalWidget()
    qtbot.keyClicks(dialog.reason_edit, reason)
    qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)
    return dialog


def _pgpass(path: Path, logins: list[str], pg_team) -> Path:
    lines = [
        f"*:*:{pg_team.database}:{login}:"
        f"{keyring.get_password(SERVICE, DB_LOGIN_SECRET.format(login=login))}"
        for login in logins
    ]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def team(pg_team, capsys, tmp_path: Path):
    """The owner sets the team up (team init, three people with keyring passwords)."""
    owner = Cli(pg_team.admin_url, capsys)
    assert owner("init").code == 0
    assert owner("team", "init").code == 0
    logins = {}
    for who, role in (("lea", "administrator"), ("ana", "approver"), ("bo", "operator")):
        login = logins[who] = pg_team.login(who)
        pg_team.keep_password(login)
        added = owner("team", "user", "add", login, "--role", role, "--password-from-keyring")
        assert added.code == 0, added.err
    pgpass = _pgpass(tmp_path / "pgpass", [logins["lea"], logins["ana"]], pg_team)
    lea = Desktop(pg_team.url(logins["lea"]), pgpass)
    ana = Desktop(pg_team.url(logins["ana"]), pgpass)
    return logins, lea, ana


def test_three_logins_each_do_what_their_role_allows(qtbot, make_window, pg_team, team, tmp_path):
    logins, lea, ana = team
    folders = {name: tmp_path / name for name in ("incoming", "accounting", "staging")}
    for folder in folders.values():
        folder.mkdir()
    # Bo's desktop: the window on his own login (its password from the keyring).
    bo = make_window(None, start_engine=True, url=pg_team.url(logins["bo"]))
    console = bo.services.console
    assert console.actor == logins["bo"]
    identity = bo.page(nav.SETTINGS).identity  # Settings says who he is, and his role
    identity.refresh()
    assert identity.actor_label.text() == f"You act as {logins['bo']}."
    assert "Taken from your database login" in identity.how_label.text()
    assert "Your role: operator." in identity.how_label.text()
    console.import_workflow(
        intake_workflow(folders["incoming"], folders["accounting"], folders["staging"])
    )
    sample = tmp_path / "sample.csv"
    sample.write_text("number,email\n1,a@example.test\n")
    to_staging(console, bo.services.engine, "team-intake", sample)
    drop_file(folders["incoming"], "march.csv", "number,email\n7,march@example.test\n")

    # His inbox shows the write and says, before he tries, that he may not approve it.
    go_to(qtbot, bo, 2)
    page = bo.page(nav.INBOX)
    needs = f"approving writes needs the approver role; {logins['bo']} is an operator"
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=WAIT_MS)
    [row] = page.model.loaded_rows()
    assert row.refusal is not None and row.refusal.startswith(needs)
    with qtbot.waitSignal(page.decision_finished, timeout=WAIT_MS):
        qtbot.mouseClick(page.decisions.approve, Qt.MouseButton.LeftButton)
    assert needs in page.decisions.message.text()
    assert console.get_write(row.id).status == "pending"

    # Ana approves it from her desktop; Bo's engine applies it.
    approved = ana("inbox", "approve", row.id, "--comment", "checked")
    assert approved.returncode == 0, approved.stderr
    qtbot.waitUntil(lambda: len(list(folders["staging"].iterdir())) == 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: page.model.rowCount() == 0, timeout=WAIT_MS)

    # An incident: Bo pauses the category (an operator may), but may not resume it.
    pause_switch(qtbot, bo, "category", "finance", "hosting incident")
    qtbot.waitUntil(lambda: bo.paused_banner.isVisible(), timeout=WAIT_MS)
    dialog = _resume_from_the_panel(qtbot, bo, "finance", "over")
    needs = f"resuming category finance needs the administrator role; {logins['bo']} is an"
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=WAIT_MS)
    assert dialog.error_label.text().startswith(needs)
    dialog.reject()
    with pytest.raises(PolicyRefused, match="needs the administrator role"):
        console.resume_category("finance", "over")  # the same refusal, whatever asks
    resumed = lea("category", "resume", "finance", "--reason", "incident over")
    assert resumed.returncode == 0, resumed.stderr
    qtbot.waitUntil(lambda: not bo.paused_banner.isVisible(), timeout=WAIT_MS)

    # Who did what is the login that did it; the trail is intact.
    listed = lea("audit", "list", "--json", "--limit", "500")
    assert listed.returncode == 0, listed.stderr
    actors = {(e["action"], e["actor"]) for e in json.loads(listed.stdout)}
    assert {
        ("workflow.imported", logins["bo"]),
        ("write.approved", logins["ana"]),
        ("category.paused", logins["bo"]),
        ("category.resumed", logins["lea"]),
    } <= actors
    verified = lea("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
