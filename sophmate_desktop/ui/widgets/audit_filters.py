"""The audit page's filter bar: workflow, actor, action, category and a date range.

Actor and action can be typed as well as chosen ("write.*" matches every write
action); the filtering happens in SQL (AuditFilters is handed to the console).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.console.history_pages import HistoryChoices
from sophmate_desktop.ui.widgets.audit_date_range import DateRangeFilter
from sophmate_desktop.ui.widgets.run_filters import (
    ANY,
    filter_combo,
    select_value,
    set_combo_values,
)


@dataclass(frozen=True)
class AuditFilters:
    workflow: str | None = None
    actor: str | None = None
    action: str | None = None
    category: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def as_kwargs(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _typed_value(combo: QComboBox) -> str | None:
    text = combo.currentText().strip()
    return None if text in ("", ANY) else text


class AuditFilterBar(QWidget):
    filters_changed = Signal(object)  # AuditFilters

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("auditFilters")
        self.workflow = filter_combo("auditWorkflowFilter")
        self.actor = filter_combo("auditActorFilter")
        self.action = filter_combo("auditActionFilter")
        self.category = filter_combo("auditCategoryFilter")
        for combo, tip in (
            (self.actor, "Who acted: a person, engine or policy (type or choose)"),
            (self.action, 'e.g. write.approved, or "write.*" for every write action'),
        ):
            combo.setEditable(True)
            combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            combo.setToolTip(tip)
            combo.lineEdit().editingFinished.connect(self._changed)
        self.dates = DateRangeFilter("auditDate")
        self.clear_button = QPushButton("C&lear filters")
        self.clear_button.setObjectName("auditClearFilters")
        self.clear_button.clicked.connect(self.clear)
        self.clear_button.setEnabled(False)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        layout = QHBoxLayout()
        dates_row = QHBoxLayout()
        outer.addLayout(layout)
        outer.addLayout(dates_row)
        for text, combo in (
            ("&Workflow", self.workflow),
            ("Ac&tor", self.actor),
            ("&Action", self.action),
            ("&Category", self.category),
        ):
            label = QLabel(text)
            label.setBuddy(combo)
            layout.addWidget(label)
            layout.addWidget(combo)
            combo.currentIndexChanged.connect(self._changed)
        layout.addStretch(1)
        dates_row.addWidget(self.dates)
        dates_row.addWidget(self.clear_button)
        dates_row.addStretch(1)
        self.dates.changed.connect(self._changed)
        self._last = AuditFilters()

    def set_choices(self, choices: HistoryChoices) -> None:
        set_combo_values(self.workflow, choices.workflows)
        set_combo_values(self.category, choices.categories)
        for combo, values in ((self.actor, choices.actors), (self.action, choices.actions)):
            typed = _typed_value(combo)
            set_combo_values(combo, values)
            if typed and combo.currentData() != typed:
                combo.blockSignals(True)
                combo.setEditText(typed)
                combo.blockSignals(False)

    def filters(self) -> AuditFilters:
        since, until = self.dates.bounds()
        return AuditFilters(
            workflow=self.workflow.currentData(),
            actor=_typed_value(self.actor),
            action=_typed_value(self.action),
            category=self.category.currentData(),
            since=since,
            until=until,
        )

    def set_filters(self, **values: str | None) -> None:
        """Choose values as a person would (tests, links from other pages)."""
        for key, value in values.items():
            select_value(getattr(self, key), value)
        self._changed()

    def clear(self) -> None:
        for combo in (self.workflow, self.actor, self.action, self.category):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.dates.blockSignals(True)
        self.dates.clear()
        self.dates.blockSignals(False)
        self._changed()

    def _changed(self) -> None:
        filters = self.filters()
        self.clear_button.setEnabled(filters != AuditFilters())
        if filters != self._last:
            self._last = filters
            self.filters_changed.emit(filters)
