"""The runs page's filter bar: workflow, status, mode and a date range (done in SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtWidgets import QWidget

from sophmate_desktop.console.history_pages import HistoryChoices
from sophmate_desktop.ui.widgets.filter_bar import (
    ComboFilterBar,
    FilterValues,
    filter_combo,
    set_combo_values,
)
from sophmate_desktop.ui.widgets.run_columns import words
from sophmate_desktop.ui.widgets.wrap_row import wrapping


@dataclass(frozen=True)
class RunFilters(FilterValues):
    workflow: str | None = None
    status: str | None = None
    mode: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class RunFilterBar(ComboFilterBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(RunFilters(), "run", parent)
        self.setObjectName("runFilters")
        self.workflow = filter_combo("runWorkflowFilter")
        self.status = filter_combo("runStatusFilter")
        self.mode = filter_combo("runModeFilter")
        layout = wrapping(self)
        self._add_combos(
            layout,
            [
                (self.tr("&Workflow"), self.workflow),
                (self.tr("&Status"), self.status),
                (self.tr("&Mode"), self.mode),
            ],
        )
        layout.addWidget(self.dates)
        layout.addWidget(self.clear_button)

    def set_choices(self, choices: HistoryChoices) -> None:
        set_combo_values(self.workflow, choices.workflows)
        set_combo_values(self.status, choices.statuses, words)
        set_combo_values(self.mode, choices.modes, words)

    def filters(self) -> RunFilters:
        since, until = self.dates.bounds()
        return RunFilters(
            workflow=self.workflow.currentData(),
            status=self.status.currentData(),
            mode=self.mode.currentData(),
            since=since,
            until=until,
        )
