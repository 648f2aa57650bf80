"""The Welcome page, shown on the first start: where the data lives, whether secrets
can be kept, who is acting, and the first steps (examples, demo, team database).

Nothing is created silently in the wrong place: the page names the database file
that was just created and the folder the demo would write to. Connecting to a team
database remembers its URL for the next start; the local file, still empty, stays
unused and can be removed from Settings → Database.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QT_TRANSLATE_NOOP, QObject, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.ui import navigator as nav
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.page_layout import scroll_page
from sophmate_desktop.ui.widgets.settings_common import MessageLabel, keyring_fix, value_label
from sophmate_desktop.ui.widgets.settings_common import heading as heading_label
from sophmate_desktop.ui.widgets.settings_team_db import TeamDatabaseDialog


class _Progress(QObject):
    """Carries progress lines from the worker thread to the main thread."""

    line = Signal(str)


class WelcomePage(QWidget):
    title = QT_TRANSLATE_NOOP("sophmate", "Welcome")

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomePage")
        self.services = services
        self.dialog: TeamDatabaseDialog | None = None
        self._busy = False
        self._progress = _Progress(self)
        self._progress.line.connect(self._demo_line)

        heading = heading_label(self.tr("Welcome to SophMate Desktop"))
        intro = QLabel(
            self.tr(
                "Turn repeatable tasks into automation safely: every workflow runs read-only "
                "first, then in staging, then in production; writes wait for a person's "
                "approval; whole categories can be stopped at once; every step is audited."
            )
        )
        intro.setWordWrap(True)

        self.data_label = value_label("welcomeData")
        self.keyring_label = MessageLabel("welcomeKeyring")
        self.user_label = value_label("welcomeUser")
        data_box = self._box(self.tr("Where your data lives"), self.data_label)
        keyring_box = self._box(self.tr("Secrets"), self.keyring_label)
        user_box = self._box(self.tr("Who you are"), self.user_label)

        steps = self._build_steps()

        body = QWidget()
        column = QVBoxLayout(body)
        column.addWidget(heading)
        column.addWidget(intro)
        for widget in (data_box, keyring_box, user_box, steps):
            column.addWidget(widget)
        column.addStretch(1)
        scroll_page(self, body)

    def _build_steps(self) -> QGroupBox:
        self.examples_button = QPushButton(translate("sophmate", "Load the &example workflows"))
        self.examples_button.setObjectName("loadExamplesButton")
        self.examples_button.clicked.connect(self.load_examples)
        self.demo_button = QPushButton(translate("sophmate", "Load the &demo"))
        self.demo_button.setObjectName("loadDemoButton")
        self.demo_button.clicked.connect(self.load_demo)
        self.team_button = QPushButton(translate("sophmate", "&Connect to a team database…"))
        self.team_button.setObjectName("connectTeamDatabaseButton")
        self.team_button.clicked.connect(self.open_team_dialog)
        self.dashboard_button = QPushButton(translate("sophmate", "Open the dash&board"))
        self.dashboard_button.setObjectName("openDashboardButton")
        self.dashboard_button.clicked.connect(
            lambda: self.services.navigator.show_page(nav.DASHBOARD)
        )
        self.examples_note = value_label("welcomeExamplesNote")
        self.demo_note = value_label("welcomeDemoNote")
        team_note = value_label("welcomeTeamNote")
        team_note.setText(
            self.tr(
                "Your team shares one PostgreSQL database: test its URL, and SophMate Desktop "
                "opens it from the next start on."
            )
        )
        dashboard_note = value_label("welcomeDashboardNote")
        dashboard_note.setText(
            self.tr("Start from an empty database and write your own workflows.")
        )

        steps = QGroupBox(translate("sophmate", "Get started"))
        grid = QGridLayout(steps)
        for row, (button, note) in enumerate(
            (
                (self.examples_button, self.examples_note),
                (self.demo_button, self.demo_note),
                (self.team_button, team_note),
                (self.dashboard_button, dashboard_note),
            )
        ):
            grid.addWidget(button, row, 0)
            grid.addWidget(note, row, 1)
        grid.setColumnStretch(1, 1)
        self.busy = QProgressBar()
        self.busy.setObjectName("welcomeBusy")
        self.busy.setRange(0, 0)
        self.busy.hide()
        self.status = MessageLabel("welcomeStatus")
        self.demo_log = QPlainTextEdit()
        self.demo_log.setObjectName("demoLog")
        self.demo_log.setReadOnly(True)
        self.demo_log.setMaximumHeight(140)
        self.demo_log.hide()
        grid.addWidget(self.busy, 4, 0, 1, 2)
        grid.addWidget(self.status, 5, 0, 1, 2)
        grid.addWidget(self.demo_log, 6, 0, 1, 2)
        return steps

    @staticmethod
    def _box(title: str, content: QWidget) -> QGroupBox:
        box = QGroupBox(title)
        QVBoxLayout(box).addWidget(content)
        return box

    # What is shown -----------------------------------------------------------

    def refresh(self) -> None:
        """Re-read what the page shows (called when the page is shown)."""
        console = self.services.console
        info = console.database_info()
        demo = console.demo_folder()
        if info.team:
            self.data_label.setText(
                self.tr(
                    "In the team database {url}, shared with your colleagues. "
                    "The demo's sample files would go to {demo} on this computer."
                ).format(url=info.url, demo=demo)
            )
        else:
            self.data_label.setText(
                self.tr(
                    "In the local database {path} (folder {folder}). "
                    "SophMate Desktop created this file because no database existed there; it "
                    "created nothing anywhere else. If your team shares a database, connect to "
                    "it below instead: the local file then stays unused and, while it holds "
                    "nothing, you can remove it in Settings → Database."
                ).format(path=info.path, folder=info.path.parent)
            )
        who = console.identity()
        how = (
            self.tr("your operating-system user")
            if who.from_os
            else self.tr("the --actor option (your operating-system user is {user})").format(
                user=who.os_user
            )
        )
        self.user_label.setText(
            self.tr(
                "You are working as {actor}, from {how}. Every change is audited under this "
                "name; to act under another name, start SophMate Desktop with --actor NAME."
            ).format(actor=who.actor, how=how)
        )
        self.examples_note.setText(
            self.tr(
                "Four example workflows (invoice intake, report archive, status webhook, "
                "nightly cleanup), imported in the dry-run stage and disabled: nothing runs "
                "or writes until you review, promote and enable them."
            )
        )
        self.demo_note.setText(
            self.tr(
                "The example workflows run by the real engine on sample files it writes to "
                "{demo}: dry runs, staging runs, pending writes, a failed run and held runs."
            ).format(demo=demo)
        )
        self.keyring_label.show_info(self.tr("Checking the keyring…"))
        self.services.tasks.run(console.secrets_status, self._keyring_read, self._keyring_failed)

    def _keyring_read(self, status) -> None:
        if not shiboken6.isValid(self):
            return
        self.keyring_label.show_keyring(
            status,
            self.tr(
                "The keyring works. {message} Passwords and tokens are kept "
                "there, by name, never in the database."
            ).format(message=status.message),
            self.tr(
                "The keyring is not usable, so secrets (passwords, API tokens) cannot be "
                "stored yet; everything else works. {message} {fix}"
            ).format(message=status.message, fix=keyring_fix()),
        )

    def _keyring_failed(self, exc: BaseException) -> None:
        if shiboken6.isValid(self):
            self.keyring_label.show_exception(exc)

    # First steps ------------------------------------------------------------

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.busy.setVisible(busy)
        for button in (self.examples_button, self.demo_button, self.team_button):
            button.setEnabled(not busy)

    def load_examples(self) -> None:
        if self._busy:
            return
        self._set_busy(True)
        self.status.show_info(self.tr("Importing the example workflows…"))
        self.services.tasks.run(
            self.services.console.import_example_workflows, self._examples_done, self._failed
        )

    def _examples_done(self, results) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_busy(False)
        new = [r.name for r in results if r.imported]
        kept = [r.name for r in results if not r.imported]
        parts = []
        if new:
            parts.append(
                self.tr("Imported {n} example workflows: {names}.").format(
                    n=len(new), names=", ".join(new)
                )
            )
        if kept:
            parts.append(
                self.tr("Already there, left as they are: {names}.").format(names=", ".join(kept))
            )
        parts.append(self.tr("Open Workflows (Ctrl+3) to review them."))
        self.status.show_ok(" ".join(parts))

    def load_demo(self) -> None:
        if self._busy:
            return
        self._set_busy(True)
        self.demo_log.clear()
        self.demo_log.show()
        self.status.show_info(self.tr("Loading the demo: the engine runs the example workflows…"))
        console, progress = self.services.console, self._progress
        self.services.tasks.run(
            lambda: console.load_demo(progress.line.emit), self._demo_done, self._failed
        )

    def _demo_line(self, line: str) -> None:
        self.demo_log.appendPlainText(line)

    def _demo_done(self, counts: dict[str, int]) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_busy(False)
        summary = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())
        self.status.show_ok(
            self.tr(
                "Demo loaded: {summary}. The Inbox (Ctrl+2) has writes waiting for approval; "
                "the kill-switch panel shows the maintenance category paused."
            ).format(summary=summary)
        )

    def _failed(self, exc: BaseException) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_busy(False)
        self.status.show_exception(exc)

    def open_team_dialog(self) -> None:
        self.dialog = TeamDatabaseDialog(self.services, self)
        self.dialog.remembered.connect(self._team_remembered)
        self.dialog.open()

    def _team_remembered(self, url: str) -> None:
        self.status.show_ok(
            self.tr(
                "From the next start SophMate Desktop opens {url}. Quit (Ctrl+Q) and start it "
                "again to switch."
            ).format(url=url)
        )
