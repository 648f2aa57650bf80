"""The runs page's filter bar: workflow, status, mode and a date range (done in SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from sophmate_desktop.console.history_pages import HistoryChoices
from sophmate_desktop.ui.widgets.audit_date_range import DateRangeFilter
from sophmate_desktop.ui.widgets.run_columns import words

ANY = "Any"


@dataclass(frozen=True)
class RunFilters:
    workflow: str | None = None
    status: str | None = None
    mode: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def as_kwargs(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "status": self.status,
            "mode": self.mode,
            "since": self.since,
            "until": self.until,
        }


def filter_combo(name: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setMinimumContentsLength(12)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.addItem(ANY, None)
    return combo


def set_combo_values(combo: QComboBox, values: tuple[str, ...], label=lambda v: v) -> None:
    """Offer `values` (keeping the one chosen now) without emitting a change."""
    chosen = combo.currentData()
    combo.blockSignals(True)
    try:
        while combo.count() > 1:
            combo.removeItem(1)
        for value in sorted(set(values) | ({chosen} if chosen else set())):
            combo.addItem(label(value), value)
        combo.setCurrentIndex(max(combo.findData(chosen), 0) if chosen else 0)
    finally:
        combo.blockSignals(False)


def select_value(combo: QComboBox, value: str | None) -> None:
    index = combo.findData(value) if value else 0
    if index < 0:
        combo.addItem(value, value)
        index = combo.count() - 1
    combo.setCurrentIndex(index)


class RunFilterBar(QWidget):
    filters_changed = Signal(object)  # RunFilters

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runFilters")
        self.workflow = filter_combo("runWorkflowFilter")
        self.status = filter_combo("runStatusFilter")
        self.mode = filter_combo("runModeFilter")
        self.dates = DateRangeFilter("runDate")
        self.clear_button = QPushButton("C&lear filters")
        self.clear_button.setObjectName("runClearFilters")
        self.clear_button.clicked.connect(self.clear)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for text, combo in (
            ("&Workflow", self.workflow),
            ("&Status", self.status),
            ("&Mode", self.mode),
        ):
            label = QLabel(text)
            label.setBuddy(combo)
            layout.addWidget(label)
            layout.addWidget(combo)
            combo.currentIndexChanged.connect(self._changed)
        layout.addWidget(self.dates)
        layout.addWidget(self.clear_button)
        layout.addStretch(1)
        self.dates.changed.connect(self._changed)
        self.clear_button.setEnabled(False)

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

    def set_filters(self, **values: str | None) -> None:
        """Choose values as a person would (tests and links from other pages)."""
        for key, value in values.items():
            select_value(getattr(self, key), value)

    def clear(self) -> None:
        for combo in (self.workflow, self.status, self.mode):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.dates.blockSignals(True)
        self.dates.clear()
        self.dates.blockSignals(False)
        self._changed()

    def _changed(self) -> None:
        filters = self.filters()
        self.clear_button.setEnabled(filters != RunFilters())
        self.filters_changed.emit(filters)
