"""A from/to date filter: two QDateEdits, each switched on by its check box.

Dates are UTC days (times are stored in UTC and shown in UTC on the runs and audit
pages): "from" is that day's midnight, "to" includes its whole day.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import QCheckBox, QDateEdit, QHBoxLayout, QWidget

from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.ui.translation import translate


def _to_qdate(value: datetime) -> QDate:
    return QDate(value.year, value.month, value.day)


def _day(value: QDate) -> datetime:
    return datetime(value.year(), value.month(), value.day())


class DateRangeFilter(QWidget):
    changed = Signal()

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        today = _to_qdate(utcnow())
        self.from_check = QCheckBox(translate("sophmate", "&From"))
        self.to_check = QCheckBox(translate("sophmate", "T&o"))
        self.from_edit = QDateEdit(today.addDays(-7))
        self.to_edit = QDateEdit(today)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for check, edit, part in (
            (self.from_check, self.from_edit, "From"),
            (self.to_check, self.to_edit, "To"),
        ):
            check.setObjectName(f"{name}{part}Check")
            edit.setObjectName(f"{name}{part}")
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
            edit.setToolTip(translate("sophmate", "A day in UTC"))
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self.changed)
            edit.dateChanged.connect(self._date_changed)
            layout.addWidget(check)
            layout.addWidget(edit)

    def _date_changed(self) -> None:
        if self.from_check.isChecked() or self.to_check.isChecked():
            self.changed.emit()

    def set_range(self, since: datetime | None, until_day: datetime | None) -> None:
        """Switch the bounds on (a date) or off (None); `until_day` is included."""
        self.blockSignals(True)
        try:
            for check, edit, value in (
                (self.from_check, self.from_edit, since),
                (self.to_check, self.to_edit, until_day),
            ):
                if value is not None:
                    edit.setDate(_to_qdate(value))
                check.setChecked(value is not None)
        finally:
            self.blockSignals(False)
        self.changed.emit()

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """(since, until) as naive UTC datetimes; until is exclusive (the day after "to")."""
        since = _day(self.from_edit.date()) if self.from_check.isChecked() else None
        until = None
        if self.to_check.isChecked():
            until = _day(self.to_edit.date()) + timedelta(days=1)
        return since, until

    def is_set(self) -> bool:
        return self.from_check.isChecked() or self.to_check.isChecked()

    def clear(self) -> None:
        self.set_range(None, None)
