""" "Connect to a team database…": type a PostgreSQL URL, test it in the background,
then remember it for the next start (a config file; see store.database.default_db_url)."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.settings_common import MessageLabel, hint

PLACEHOLDER = "postgresql://USER:PASSWORD@HOST:5432/DBNAME"


class TeamDatabaseDialog(QDialog):
    """Test a team database URL off the GUI thread, then remember it."""

    remembered = Signal(str)  # the URL with its password masked

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("teamDatabaseDialog")
        self.setWindowTitle(translate("sophmate", "Connect to a team database"))
        self.setMinimumWidth(560)
        self.services = services
        self._tested_url: str | None = None
        info = services.console.database_info()

        intro = QLabel(
            self.tr(
                "A team shares one PostgreSQL database: the same inbox, kill switches and "
                "audit trail on every desktop. Enter its URL and test it; SophMate Desktop "
                "opens it from the next start on."
            )
        )
        intro.setWordWrap(True)
        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("teamUrlEdit")
        self.url_edit.setPlaceholderText(PLACEHOLDER)
        self.url_edit.textChanged.connect(self._url_changed)
        url_label = QLabel(translate("sophmate", "Database &URL:"))
        url_label.setBuddy(self.url_edit)
        where = hint(
            self.tr(
                "The URL is saved in {config_file}, readable only by you. To keep the "
                "password out of that file, leave it out of the URL and put it in "
                "~/.pgpass."
            ).format(config_file=info.config_file)
        )

        self.test_button = QPushButton(translate("sophmate", "&Test connection"))
        self.test_button.setObjectName("testConnectionButton")
        self.test_button.clicked.connect(self.test_connection)
        self.use_button = QPushButton(translate("sophmate", "U&se this database"))
        self.use_button.setObjectName("useTeamDatabaseButton")
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self.remember)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy.hide()
        self.result = MessageLabel("teamDatabaseResult")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        row = QHBoxLayout()
        row.addWidget(self.test_button)
        row.addWidget(self.use_button)
        row.addWidget(self.busy)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(url_label)
        layout.addWidget(self.url_edit)
        layout.addWidget(where)
        layout.addLayout(row)
        layout.addWidget(self.result)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self._url_changed("")

    def _url_changed(self, text: str) -> None:
        self.test_button.setEnabled(bool(text.strip()))
        self.use_button.setEnabled(bool(text.strip()) and text.strip() == self._tested_url)

    def test_connection(self) -> None:
        url = self.url_edit.text().strip()
        if not url:
            return
        console = self.services.console
        self.test_button.setEnabled(False)
        self.use_button.setEnabled(False)
        self.busy.show()
        self.result.show_info(self.tr("Connecting…"))
        self.services.tasks.run(
            lambda: console.test_database_url(url),
            lambda check: self._tested(url, check),
            lambda exc: self._test_failed(url, exc),
        )

    def _tested(self, url: str, check) -> None:
        if not shiboken6.isValid(self):
            return
        self.busy.hide()
        self._tested_url = url
        self.result.show_ok(check.message + self.tr(" Press “Use this database” to switch to it."))
        self._url_changed(self.url_edit.text())

    def _test_failed(self, url: str, exc: BaseException) -> None:
        if not shiboken6.isValid(self):
            return
        self.busy.hide()
        self._tested_url = None
        self.result.show_exception(exc)
        self._url_changed(self.url_edit.text())

    def remember(self) -> None:
        url = self.url_edit.text().strip()
        console = self.services.console
        try:
            path = console.remember_db_url(url)
        except Exception as exc:
            self.result.show_exception(exc)
            return
        info = console.database_info()
        lines = [
            self.tr(
                "Saved in {path}. Quit SophMate Desktop (Ctrl+Q) and start it again: "
                "it will open {url}."
            ).format(path=path, url=info.remembered_url)
        ]
        if info.env_overrides:
            lines.append(
                self.tr(
                    "Note: SOPHMATE_DB is set in your environment and still wins; unset it first."
                )
            )
        if info.path is not None and info.path == info.local_path:
            lines.append(
                self.tr(
                    "The local database at {path} is then no longer used; while it holds "
                    "nothing you can remove it in Settings → Database."
                ).format(path=info.path)
            )
        self.result.show_ok(" ".join(lines))
        self.use_button.setEnabled(False)
        self.remembered.emit(info.remembered_url or "")
