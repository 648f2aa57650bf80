"""The inbox's filter bar: category, workflow, kind, customer-facing only.

The choices come from the console (distinct values of the writes in the inbox).
Reading them scans every waiting write (tens of ms with 100,000), so the bar asks
for them only when a person reaches for a combo (focus or pop-up), not on every
refresh. The filtering itself happens in SQL (InboxFilters is handed to the console).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QPushButton, QWidget

from sophmate_desktop.console.inbox_pages import InboxChoices, InboxFilters
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.filter_bar import ANY, add_labelled, filter_combo
from sophmate_desktop.ui.widgets.wrap_row import wrapping


class _ChoiceCombo(QComboBox):
    reached = Signal()  # focused or about to pop up: the choices should be current

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.reached.emit()
        super().focusInEvent(event)

    def showPopup(self) -> None:
        self.reached.emit()
        super().showPopup()


class InboxFilterBar(QWidget):
    filters_changed = Signal(object)  # InboxFilters
    choices_needed = Signal()  # the choices are stale and a person reached for a combo

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inboxFilters")
        self.category = self._combo("categoryFilter")
        self.workflow = self._combo("workflowFilter")
        self.kind = self._combo("kindFilter")
        self.customer_facing = QCheckBox(translate("sophmate", "C&ustomer-facing only"))
        self.customer_facing.setObjectName("customerFacingFilter")
        self.customer_facing.toggled.connect(self._changed)
        self.applied = QCheckBox(translate("sophmate", "Applied (to undo)"))
        self.applied.setObjectName("appliedFilter")
        self.applied.setToolTip(
            translate("sophmate", "Show applied writes instead of waiting ones, to undo one")
        )
        self.applied.toggled.connect(self._changed)
        self.clear_button = QPushButton(translate("sophmate", "C&lear filters"))
        self.clear_button.setObjectName("clearFiltersButton")
        self.clear_button.clicked.connect(self.clear)
        self.count = QLabel()
        self.count.setObjectName("inboxCount")
        layout = wrapping(self)
        add_labelled(
            layout,
            [
                (self.tr("Ca&tegory"), self.category),
                (self.tr("&Workflow"), self.workflow),
                (self.tr("&Kind"), self.kind),
            ],
        )
        layout.addWidget(self.customer_facing)
        layout.addWidget(self.applied)
        layout.addWidget(self.clear_button)
        layout.addWidget(self.count)
        self._filling = False
        self.choices_stale = True
        self.clear_button.setEnabled(False)

    def _reached(self) -> None:
        if self.choices_stale:
            self.choices_needed.emit()

    def _combo(self, name: str) -> QComboBox:
        combo = filter_combo(name, _ChoiceCombo())
        combo.reached.connect(self._reached)
        combo.currentIndexChanged.connect(self._changed)
        return combo

    def filters(self) -> InboxFilters:
        return InboxFilters(
            category=self.category.currentData(),
            workflow=self.workflow.currentData(),
            kind=self.kind.currentData(),
            customer_facing_only=self.customer_facing.isChecked(),
            applied=self.applied.isChecked(),
        )

    def set_choices(self, choices: InboxChoices) -> None:
        """Offer these values; a value chosen now stays offered even when it emptied."""
        self.choices_stale = False
        self._filling = True
        try:
            for combo, values in (
                (self.category, choices.categories),
                (self.workflow, choices.workflows),
                (self.kind, choices.kinds),
            ):
                chosen = combo.currentData()
                wanted = sorted(set(values) | ({chosen} if chosen else set()))
                present = [combo.itemData(i) for i in range(1, combo.count())]
                if present != wanted:
                    combo.clear()
                    combo.addItem(translate("sophmate", ANY), None)
                    for value in wanted:
                        combo.addItem(value, value)
                    combo.setCurrentIndex(max(0, combo.findData(chosen)) if chosen else 0)
        finally:
            self._filling = False

    def set_filters(self, filters: InboxFilters) -> None:
        """Show `filters` (values not offered yet are added) and announce them once."""
        self._filling = True
        try:
            for combo, value in (
                (self.category, filters.category),
                (self.workflow, filters.workflow),
                (self.kind, filters.kind),
            ):
                if value and combo.findData(value) < 0:
                    combo.addItem(value, value)
                combo.setCurrentIndex(combo.findData(value) if value else 0)
            self.customer_facing.setChecked(filters.customer_facing_only)
            self.applied.setChecked(filters.applied)
        finally:
            self._filling = False
        self._changed()

    def clear(self) -> None:
        self.set_filters(InboxFilters())

    def focus_first(self) -> None:
        self.category.setFocus()

    def set_count(self, shown: int, total: int) -> None:
        if shown == total:
            self.count.setText(self.tr("{total:,} waiting").format(total=total))
        else:
            self.count.setText(
                self.tr("{shown:,} of {total:,} waiting").format(shown=shown, total=total)
            )

    def _changed(self, *_args) -> None:
        if self._filling:
            return
        filters = self.filters()
        self.clear_button.setEnabled(filters.active)
        self.filters_changed.emit(filters)
