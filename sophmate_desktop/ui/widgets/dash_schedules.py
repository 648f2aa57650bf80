"""The dashboard's "Next scheduled runs": each enabled scheduled workflow with its next
run and the plain reading of its schedule; activating one opens it on the Workflows
page, where "Run now" is."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from sophmate_desktop.console.schedules import ScheduleInfo
from sophmate_desktop.ui.translation import translate

EMPTY = QT_TRANSLATE_NOOP("sophmate", "No scheduled workflow is enabled.")


class UpcomingSchedules(QListWidget):
    activated_workflow = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("upcomingSchedules")
        self.setAccessibleName(self.tr("Next scheduled runs"))
        self.setAccessibleDescription(self.tr("Enter opens the workflow"))
        self.setMaximumHeight(140)
        self.itemActivated.connect(self._activated)

    def show_rows(self, rows: Sequence[ScheduleInfo]) -> None:
        self.clear()
        if not rows:
            item = QListWidgetItem(translate("sophmate", EMPTY))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.addItem(item)
            return
        for info in rows:
            item = QListWidgetItem(f"{info.next_text()}  {info.workflow}: {info.reading}")
            item.setData(Qt.ItemDataRole.UserRole, info.workflow)
            item.setToolTip(
                self.tr("{expression} (catch_up {catch_up}); open it to run now").format(
                    expression=info.expression, catch_up=info.catch_up
                )
            )
            self.addItem(item)

    def _activated(self, item: QListWidgetItem) -> None:
        name = item.data(Qt.ItemDataRole.UserRole)
        if name:
            self.activated_workflow.emit(name)
