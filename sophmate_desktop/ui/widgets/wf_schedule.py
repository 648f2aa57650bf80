"""The schedule line of the Workflows page: a scheduled workflow's plain-language
reading and next run, with "Run now" beside it (a run recorded at once, like
`workflow run`, by the engine of this window)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from sophmate_desktop.domain.roles import Role
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate


class ScheduleStrip(QWidget):
    said = Signal(str, str)  # text, tone ("ok" | "error" | "info")

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.name = ""
        self.label = QLabel()
        self.label.setObjectName("scheduleLabel")
        self.run_now_button = QPushButton(translate("sophmate", "Run &now"))
        self.run_now_button.setObjectName("runNowButton")
        self.run_now_button.setToolTip(
            translate("sophmate", "Start a run of this workflow now, outside its schedule")
        )
        self.run_now_button.clicked.connect(self.run_now)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.run_now_button)
        self.hide()

    def show_for(self, name: str | None) -> None:
        """Show `name`'s schedule, or hide the line (no workflow, no time trigger)."""
        info = None
        if name:
            try:
                info = self.services.console.schedule_of(name)
            except Exception:  # a workflow deleted meanwhile: nothing to show
                info = None
        if info is None:
            self.name = ""
            self.hide()
            return
        self.name = name or ""
        state = "" if info.enabled else self.tr(" (not enabled: it does not run by itself)")
        self.label.setText(
            self.tr("Schedule: {reading}. Next run: {next_text}{state}").format(
                reading=info.reading, next_text=info.next_text(), state=state
            )
        )
        self.run_now_button.setEnabled(self.services.engine is not None)
        self.show()

    def run_now(self) -> None:
        engine, name = self.services.engine, self.name
        if engine is None or not name:
            self.said.emit(
                self.tr("No engine runs in this window: use `workflow run NAME`."), "error"
            )
            return
        console = self.services.console

        def start() -> int:
            console.require_role(Role.OPERATOR, "running workflows")
            return engine.run_now(name, actor=console.actor)

        self.services.tasks.run(
            start,
            lambda run_id: self.said.emit(
                self.tr("Run {run_id} of {name} started.").format(run_id=run_id, name=name), "ok"
            ),
            lambda exc: self.said.emit(str(exc), "error"),
            report=False,
        )
