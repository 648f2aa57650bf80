"""Settings → Database (where the data lives, which schema, why this database) and
Identity (who acts, and how to change it)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.settings_common import MessageLabel, ask, button_row, value_label
from sophmate_desktop.ui.widgets.settings_team_db import TeamDatabaseDialog


class DatabaseSection(QGroupBox):
    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Database"), parent)
        self.setObjectName("databaseSection")
        self.services = services
        self.dialog: TeamDatabaseDialog | None = None
        self.confirm: QMessageBox | None = None

        self.url_label = value_label("databaseUrl")
        self.kind_label = value_label("databaseKind")
        self.schema_label = value_label("databaseSchema")
        self.source_label = value_label("databaseSource")
        self.next_label = value_label("databaseNextStart")
        form = QFormLayout()
        form.addRow(self.tr("Database:"), self.url_label)
        form.addRow(self.tr("Kind:"), self.kind_label)
        form.addRow(self.tr("Schema version:"), self.schema_label)
        form.addRow(self.tr("Chosen by:"), self.source_label)
        form.addRow(self.tr("Next start:"), self.next_label)

        self.connect_button = QPushButton(translate("sophmate", "&Connect to a team database…"))
        self.connect_button.setObjectName("connectTeamDatabaseButton")
        self.connect_button.clicked.connect(self.open_team_dialog)
        self.forget_button = QPushButton(translate("sophmate", "Use the &local database again"))
        self.forget_button.setObjectName("forgetTeamDatabaseButton")
        self.forget_button.clicked.connect(self.forget)
        self.remove_button = QPushButton(
            translate("sophmate", "Re&move the unused local database…")
        )
        self.remove_button.setObjectName("removeLocalDatabaseButton")
        self.remove_button.clicked.connect(self.confirm_remove_local)
        self.message = MessageLabel("databaseMessage")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(button_row(self.connect_button, self.forget_button, self.remove_button))
        layout.addWidget(self.message)

    def refresh(self) -> None:
        info = self.services.console.database_info()
        self.url_label.setText(info.url if info.team else str(info.path))
        if info.team:
            self.kind_label.setText(
                self.tr("Team database (PostgreSQL), shared with your colleagues")
            )
        else:
            self.kind_label.setText(self.tr("Local SQLite file, on this computer only"))
        self.schema_label.setText(info.schema_version)
        self.source_label.setText(info.source)
        if info.env_overrides:
            nxt = self.tr("SOPHMATE_DB from the environment (it wins over everything else)")
        elif info.remembered_url:
            nxt = self.tr("{url} (remembered in {file})").format(
                url=info.remembered_url, file=info.config_file
            )
        else:
            nxt = self.tr("the local database {path}, unless --db names another").format(
                path=info.local_path
            )
        self.next_label.setText(nxt)
        self.forget_button.setVisible(info.remembered_url is not None)
        self.remove_button.setVisible(info.unused_local)
        self.remove_button.setToolTip(
            self.tr("{local_path} holds nothing and is not in use").format(
                local_path=info.local_path
            )
        )

    def open_team_dialog(self) -> None:
        self.dialog = TeamDatabaseDialog(self.services, self)
        self.dialog.remembered.connect(lambda _url: self.refresh())
        self.dialog.open()

    def forget(self) -> None:
        try:
            self.services.console.forget_db_url()
        except Exception as exc:
            self.message.show_exception(exc)
            return
        self.message.show_ok(
            self.tr(
                "The team database is forgotten: from the next start SophMate Desktop opens "
                "the local database again."
            )
        )
        self.refresh()

    def confirm_remove_local(self) -> None:
        info = self.services.console.database_info()
        self.confirm = ask(
            self,
            "removeLocalDatabaseConfirm",
            self.tr("Remove the unused local database"),
            self.tr(
                "Remove {local_path}? It holds nothing (no audit event was ever recorded "
                "in it) and this window does not use it."
            ).format(local_path=info.local_path),
            self.tr("&Remove"),
            self.remove_local,
        )

    def remove_local(self) -> None:
        try:
            path = self.services.console.remove_unused_local_database()
        except Exception as exc:
            self.message.show_exception(exc)
            return
        self.message.show_ok(self.tr("Removed {path}.").format(path=path))
        self.refresh()


class IdentitySection(QGroupBox):
    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Identity"), parent)
        self.setObjectName("identitySection")
        self.services = services
        self.actor_label = value_label("identityActor")
        self.how_label = value_label("identityHow")
        layout = QVBoxLayout(self)
        layout.addWidget(self.actor_label)
        layout.addWidget(self.how_label)

    def refresh(self) -> None:
        who = self.services.console.identity()
        self.actor_label.setText(self.tr("You act as {actor}.").format(actor=who.actor))
        if who.login is not None:
            role = who.role or self.tr("none: you are not in the team")
            self.how_label.setText(
                self.tr(
                    "Taken from your database login. Every change you make is audited under "
                    "it. Your role: {role}. To act as another person, connect with their "
                    "own login."
                ).format(role=role)
            )
            return
        origin = (
            self.tr("your operating-system user ({user})").format(user=who.os_user)
            if who.from_os
            else self.tr("the --actor option (your operating-system user is {user})").format(
                user=who.os_user
            )
        )
        self.how_label.setText(
            self.tr(
                "Taken from {origin}. Every change you make is audited under this name. "
                "To act under another name, start SophMate Desktop with --actor NAME."
            ).format(origin=origin)
        )
