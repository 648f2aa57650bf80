"""The selected audit event in full: its fields and details JSON, and a way to its run."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from sophmate_desktop.store.rows import AuditRow
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate


class AuditDetails(QWidget):
    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.current: AuditRow | None = None
        self.heading = QLabel(translate("sophmate", "Select an event to see its details."))
        self.heading.setObjectName("auditDetailsHeading")
        self.text = QPlainTextEdit()
        self.text.setObjectName("auditDetails")
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.open_run_button = QPushButton(translate("sophmate", "Open &run"))
        self.open_run_button.setObjectName("openRunButton")
        self.open_run_button.setToolTip(
            translate("sophmate", "Show the run this event belongs to (Enter)")
        )
        self.open_run_button.clicked.connect(self.open_run)
        self.open_run_button.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.open_run_button)

    def show_event(self, event: AuditRow | None) -> None:
        self.current = event
        if event is None:
            self.heading.setText(self.tr("Select an event to see its details."))
            self.text.clear()
            self.open_run_button.hide()
            return
        self.heading.setText(
            self.tr("Event {id}: {action}").format(id=event.id, action=event.action)
        )
        self.text.setPlainText(self.services.console.audit_event_text(event))
        if event.run is not None:
            self.open_run_button.setText(self.tr("Open &run {run}").format(run=event.run))
            self.open_run_button.show()
        else:
            self.open_run_button.hide()

    def open_run(self) -> None:
        if self.current is not None and self.current.run is not None:
            self.services.navigator.show_run(self.current.run)
