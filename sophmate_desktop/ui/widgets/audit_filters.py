"""The audit page's filter bar: workflow, actor, action, category and a date range.

Actor and action can be typed as well as chosen ("write.*" matches every write
action); the filtering happens in SQL (AuditFilters is handed to the console).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtWidgets import QComboBox, QWidget

from sophmate_desktop.console.history_pages import HistoryChoices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.filter_bar import (
    ANY,
    ComboFilterBar,
    FilterValues,
    filter_combo,
    set_combo_values,
)
from sophmate_desktop.ui.widgets.wrap_row import wrapping


@dataclass(frozen=True)
class AuditFilters(FilterValues):
    workflow: str | None = None
    actor: str | None = None
    action: str | None = None
    category: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _typed_value(combo: QComboBox) -> str | None:
    text = combo.currentText().strip()
    return None if text in ("", ANY, translate("sophmate", ANY)) else text


class AuditFilterBar(ComboFilterBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(AuditFilters(), "audit", parent)
        self.setObjectName("auditFilters")
        self.workflow = filter_combo("auditWorkflowFilter")
        self.actor = filter_combo("auditActorFilter")
        self.action = filter_combo("auditActionFilter")
        self.category = filter_combo("auditCategoryFilter")
        for combo, tip in (
            (self.actor, self.tr("Who acted: a person, engine or policy (type or choose)")),
            (self.action, self.tr('e.g. write.approved, or "write.*" for every write action')),
        ):
            combo.setEditable(True)
            combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            combo.setToolTip(tip)
            combo.lineEdit().editingFinished.connect(self._changed)
        layout = wrapping(self)
        self._add_combos(
            layout,
            [
                (self.tr("&Workflow"), self.workflow),
                (self.tr("Ac&tor"), self.actor),
                (self.tr("&Action"), self.action),
                (self.tr("&Category"), self.category),
            ],
        )
        layout.addWidget(self.dates)
        layout.addWidget(self.clear_button)

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
