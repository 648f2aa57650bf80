"""Settings > Notices: the SMTP connection that `email:` notice targets go through."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP
from PySide6.QtWidgets import QComboBox, QGroupBox, QLabel, QPushButton, QVBoxLayout, QWidget

from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.settings_common import MessageLabel, button_row, hint

NONE_LABEL = QT_TRANSLATE_NOOP("sophmate", "(none: email: targets fail)")


class NoticesSection(QGroupBox):
    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Notices"), parent)
        self.setObjectName("noticesSection")
        self.services = services
        self.connection_box = QComboBox()
        self.connection_box.setObjectName("noticeEmailConnection")
        label = QLabel(translate("sophmate", "&E-mail notices go through:"))
        label.setBuddy(self.connection_box)
        self.save_button = QPushButton(translate("sophmate", "&Save"))
        self.save_button.setObjectName("saveNoticeEmailButton")
        self.save_button.clicked.connect(self.save)
        self.message = MessageLabel("noticesMessage")
        layout = QVBoxLayout(self)
        layout.addWidget(
            hint(
                self.tr(
                    "Failure notices reach people through the workflow's notify.on_failure: "
                    "email:ADDRESS goes through the SMTP connection chosen here; apprise URLs "
                    "(ntfy://, slack://, json://...) go straight out. Each notice shows whether "
                    "it was sent, and why not."
                )
            )
        )
        layout.addWidget(label)
        layout.addWidget(self.connection_box)
        layout.addLayout(button_row(self.save_button))
        layout.addWidget(self.message)

    def refresh(self) -> None:
        console = self.services.console
        names = [c.name for c in console.list_connections() if c.kind == "smtp"]
        current = console.notify_email_connection()
        self.connection_box.clear()
        self.connection_box.addItem(translate("sophmate", NONE_LABEL), None)
        for name in names:
            self.connection_box.addItem(name, name)
        index = self.connection_box.findData(current) if current else 0
        self.connection_box.setCurrentIndex(max(index, 0))

    def save(self) -> None:
        name = self.connection_box.currentData()
        try:
            self.services.console.set_notify_email_connection(name)
        except Exception as exc:
            self.message.show_exception(exc)
            return
        self.message.show_ok(
            self.tr("E-mail notices go through {name}.").format(name=name)
            if name
            else self.tr("No connection for e-mail notices.")
        )
