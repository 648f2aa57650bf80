"""What the filter bars of the inbox, runs and audit pages share: combos whose first
item "Any" means no filter, labelled with a mnemonic, and (runs, audit) a bar of
such combos plus a date range that says when its filters changed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import fields
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, Signal
from PySide6.QtWidgets import QComboBox, QLayout, QPushButton, QWidget

from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.audit_date_range import DateRangeFilter
from sophmate_desktop.ui.widgets.wrap_row import labelled

ANY = QT_TRANSLATE_NOOP("sophmate", "Any")  # translated where shown


class FilterValues:
    """Base of a frozen dataclass of what a bar's filters ask for."""

    def as_kwargs(self) -> dict[str, Any]:
        """The filters as keyword arguments of the console call that reads the page."""
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]


def filter_combo(name: str, combo: QComboBox | None = None) -> QComboBox:
    """`combo` (a new QComboBox if None) offering only "Any" (data None) so far."""
    combo = combo if combo is not None else QComboBox()
    combo.setObjectName(name)
    combo.setMinimumContentsLength(12)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.addItem(translate("sophmate", ANY), None)
    return combo


def set_combo_values(
    combo: QComboBox, values: Iterable[str], label: Callable[[str], str] = lambda v: v
) -> None:
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
    """Choose `value` (None: "Any"), adding it when it is not offered yet."""
    index = combo.findData(value) if value else 0
    if index < 0:
        combo.addItem(value, value)
        index = combo.count() - 1
    combo.setCurrentIndex(index)


def add_labelled(layout: QLayout, pairs: Iterable[tuple[str, QComboBox]]) -> None:
    """Each combo after its label, the two kept on one line ("&Workflow": Alt+W
    focuses the combo)."""
    for text, combo in pairs:
        layout.addWidget(labelled(text, combo))


class ComboFilterBar(QWidget):
    """Combos and a date range; `filters_changed(filters)` when what they ask for
    changes. A subclass builds its combos with `_add_combos` and says in `filters()`
    what they ask for; `empty` is that value with nothing chosen."""

    filters_changed = Signal(object)

    def __init__(self, empty: Any, prefix: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._empty = self._last = empty
        self._combos: list[QComboBox] = []
        self.dates = DateRangeFilter(f"{prefix}Date")
        self.dates.changed.connect(self._changed)
        self.clear_button = QPushButton(translate("sophmate", "C&lear filters"))
        self.clear_button.setObjectName(f"{prefix}ClearFilters")
        self.clear_button.clicked.connect(self.clear)
        self.clear_button.setEnabled(False)

    def _add_combos(self, layout: QLayout, pairs: list[tuple[str, QComboBox]]) -> None:
        add_labelled(layout, pairs)
        for _text, combo in pairs:
            combo.currentIndexChanged.connect(self._changed)
            self._combos.append(combo)

    def filters(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} says what its combos ask for")

    def set_filters(self, **values: str | None) -> None:
        """Choose values as a person would (tests, links from other pages)."""
        for key, value in values.items():
            select_value(getattr(self, key), value)
        self._changed()

    def clear(self) -> None:
        for combo in self._combos:
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.dates.blockSignals(True)
        self.dates.clear()
        self.dates.blockSignals(False)
        self._changed()

    def _changed(self) -> None:
        filters = self.filters()
        self.clear_button.setEnabled(filters != self._empty)
        if filters != self._last:
            self._last = filters
            self.filters_changed.emit(filters)
