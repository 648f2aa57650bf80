"""The Settings page: database, identity, four eyes, secrets by name, connections."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP
from PySide6.QtWidgets import (
    QButtonGroup,
    QGroupBox,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.domain.events import Event
from sophmate_desktop.domain.names import AuditAction, EventKind
from sophmate_desktop.ui.bridge import BatchedEvents
from sophmate_desktop.ui.debounce import Debouncer
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.page_layout import scroll_page
from sophmate_desktop.ui.widgets.settings_budgets import BudgetsSection
from sophmate_desktop.ui.widgets.settings_common import MessageLabel, heading, hint
from sophmate_desktop.ui.widgets.settings_connections import ConnectionsSection
from sophmate_desktop.ui.widgets.settings_database import DatabaseSection, IdentitySection
from sophmate_desktop.ui.widgets.settings_notices import NoticesSection
from sophmate_desktop.ui.widgets.settings_secrets import SecretsSection

# Events after which what this page shows may be stale.
REFRESH_KINDS = frozenset(
    {
        EventKind.DB_CHANGED,
        AuditAction.SETTING_CHANGED,
        AuditAction.SECRET_SET,
        AuditAction.SECRET_REPLACED,
        AuditAction.SECRET_DELETED,
        AuditAction.CONNECTION_CREATED,
        AuditAction.CONNECTION_CHANGED,
        AuditAction.WORKFLOW_AUTO_PAUSED,
        AuditAction.WORKFLOW_RESUMED,
        AuditAction.WORKFLOW_IMPORTED,
        AuditAction.WORKFLOW_UPDATED,
    }
)

FOUR_EYES_MODES = (
    (
        "auto",
        QT_TRANSLATE_NOOP("sophmate", "A&uto: on for a team database, off on a single desktop"),
    ),
    ("on", QT_TRANSLATE_NOOP("sophmate", "Always o&n")),
    ("off", QT_TRANSLATE_NOOP("sophmate", "&Off: anyone may approve any write")),
)
FOUR_EYES_VALUES = {"auto": "auto", "on": True, "off": False}


class FourEyesSection(QGroupBox):
    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Four eyes"), parent)
        self.setObjectName("fourEyesSection")
        self.services = services
        explain = hint(
            self.tr(
                "With four eyes on, the person who last changed a workflow may not approve "
                "its writes: someone else has to. Changing this setting is audited."
            )
        )
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        for mode, text in FOUR_EYES_MODES:
            button = QRadioButton(translate("sophmate", text))
            button.setObjectName(f"fourEyes_{mode}")
            self.group.addButton(button)
            self.buttons[mode] = button
            layout.addWidget(button)
            button.clicked.connect(lambda _=False, m=mode: self.choose(m))
        self.effective = QLabel()
        self.effective.setObjectName("fourEyesEffective")
        self.effective.setWordWrap(True)
        self.message = MessageLabel("fourEyesMessage")
        layout.addWidget(self.effective)
        layout.addWidget(self.message)

    def refresh(self) -> None:
        console = self.services.console
        self.buttons[console.four_eyes_mode()].setChecked(True)
        self.effective.setText(
            self.tr("Four eyes is on for this database now.")
            if console.four_eyes_enabled
            else self.tr("Four eyes is off for this database now.")
        )

    def choose(self, mode: str) -> None:
        console = self.services.console
        if console.four_eyes_mode() == mode:
            return
        try:
            console.set_four_eyes(FOUR_EYES_VALUES[mode])
        except Exception as exc:
            self.message.show_exception(exc)
        else:
            self.message.show_ok(
                self.tr("Four eyes set to {mode} (recorded in the audit trail).").format(mode=mode)
            )
        self.refresh()


class SettingsPage(BatchedEvents, QWidget):
    title = QT_TRANSLATE_NOOP("sophmate", "Settings")

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsPage")
        self.services = services
        self.database = DatabaseSection(services)
        self.identity = IdentitySection(services)
        self.four_eyes = FourEyesSection(services)
        self.secrets = SecretsSection(services)
        self.connections = ConnectionsSection(services)
        self.budgets = BudgetsSection(services)
        self.notices = NoticesSection(services)
        self.sections = (
            self.database,
            self.identity,
            self.four_eyes,
            self.secrets,
            self.connections,
            self.notices,
            self.budgets,
        )

        title = heading(self.tr("Settings"))
        body = QWidget()
        column = QVBoxLayout(body)
        for section in self.sections:
            column.addWidget(section)
        column.addStretch(1)
        scroll_page(self, body, title)

        self._refresh_later = Debouncer(self, self.refresh)
        services.events.listen(self)

    def _on_event(self, event: Event) -> None:
        if event.kind in REFRESH_KINDS and self.isVisible():
            self._refresh_later.poke()

    def refresh(self) -> None:
        """Re-read what the page shows (called when the page is shown)."""
        for section in self.sections:
            section.refresh()
