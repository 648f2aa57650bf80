"""Settings → Cost budgets: a category's budget per day and per month (empty: none).

A spent budget pauses the category; a budget set below what was spent already pauses
it at once, and the section says so with the console's reason.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.console.switches import BudgetRow
from sophmate_desktop.domain.events import Event
from sophmate_desktop.domain.names import EventKind
from sophmate_desktop.store.rows import SwitchRow
from sophmate_desktop.ui.bridge import BatchedEvents
from sophmate_desktop.ui.debounce import Debouncer
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.settings_common import (
    KeyActions,
    MessageLabel,
    button_row,
    hint,
    section_table,
)


def money(value: float | None) -> str:
    """A budget as the table shows it: "" for none."""
    return "" if value is None else f"{value:.2f}"


def spent_text(value: float) -> str:
    """Two decimals; the fraction of a cent a few prompts cost keeps four."""
    return f"{value:.2f}" if value >= 0.01 or not value else f"{value:.4f}"


def parse_budget(text: str, field: str) -> float | None:
    """The number typed into `field` (empty: no budget); ValueError names the field."""
    text = text.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValueError(
            translate(
                "sophmate",
                "{field}: {text} is not a number; type e.g. 12.50, or leave it empty for none",
            ).format(field=field, text=repr(text))
        ) from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(
            translate("sophmate", "{field}: a budget is 0 or more (got {text})").format(
                field=field, text=text
            )
        )
    return number


def budget_outcome(row: BudgetRow) -> str:
    """What setting the budget means, in one sentence."""
    if row.paused_now:
        return translate("sophmate", "{name} is paused now: {why}").format(
            name=row.name, why=row.paused_now
        )
    limits = [
        translate("sophmate", "{amount} a day").format(amount=f"{row.per_day:.2f}")
        if row.per_day is not None
        else "",
        translate("sophmate", "{amount} a month").format(amount=f"{row.per_month:.2f}")
        if row.per_month is not None
        else "",
    ]
    limits = [text for text in limits if text]
    if not limits:
        return translate("sophmate", "{name} has no cost budget now.").format(name=row.name)
    return translate("sophmate", "{name} pauses itself after {limits}.").format(
        name=row.name, limits=translate("sophmate", " or ").join(limits)
    )


class BudgetDialog(QDialog):
    """The two budgets of one category; saving goes through the console (audited)."""

    def __init__(self, services: UiServices, row: SwitchRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("budgetDialog")
        self.setWindowTitle(self.tr("Cost budget of {name}").format(name=row.name))
        self.setMinimumWidth(460)
        self.services = services
        self.category = row.name
        self.saved: BudgetRow | None = None

        self.day_edit = QLineEdit(money(row.budget_per_day))
        self.day_edit.setObjectName("budgetPerDayEdit")
        self.month_edit = QLineEdit(money(row.budget_per_month))
        self.month_edit.setObjectName("budgetPerMonthEdit")
        for edit in (self.day_edit, self.month_edit):
            edit.setPlaceholderText(translate("sophmate", "empty: no budget"))
        self.day_error = MessageLabel("budgetPerDayError")
        self.month_error = MessageLabel("budgetPerMonthError")
        self.problem = MessageLabel("budgetProblem")

        form = QFormLayout()
        form.addRow(self.tr("Per &day:"), self.day_edit)
        form.addRow("", self.day_error)
        form.addRow(self.tr("Per &month:"), self.month_edit)
        form.addRow("", self.month_error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            hint(
                self.tr(
                    "When the costs of {name} reach a budget, the category pauses itself "
                    "until someone resumes it. Changing a budget is audited."
                ).format(name=row.name)
            )
        )
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.day_edit.setFocus()

    def save(self) -> None:
        values: list[float | None] = []
        valid = True
        for edit, error, field in (
            (self.day_edit, self.day_error, self.tr("Per day")),
            (self.month_edit, self.month_error, self.tr("Per month")),
        ):
            try:
                values.append(parse_budget(edit.text(), field))
            except ValueError as exc:
                error.show_error(str(exc))
                valid = False
            else:
                error.clear_message()
        if not valid:
            self.problem.clear_message()
            return
        try:
            self.saved = self.services.console.set_category_budget(self.category, *values)
        except Exception as exc:  # BadInput names the option; shown in place
            self.problem.show_exception(exc)
            return
        self.accept()


class BudgetsSection(BatchedEvents, QGroupBox):
    COLUMNS = (
        QT_TRANSLATE_NOOP("sophmate", "Category"),
        QT_TRANSLATE_NOOP("sophmate", "Per day"),
        QT_TRANSLATE_NOOP("sophmate", "Per month"),
        QT_TRANSLATE_NOOP("sophmate", "State"),
        QT_TRANSLATE_NOOP("sophmate", "Spent today / month"),
    )

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Cost budgets"), parent)
        self.setObjectName("budgetsSection")
        self.services = services
        self.dialog: BudgetDialog | None = None
        self._rows: list[SwitchRow] = []

        self.table = section_table("budgetsTable", self.COLUMNS)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((180, 110, 110)):
            self.table.setColumnWidth(column, width)
        self.table.doubleClicked.connect(self.edit_selected)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        KeyActions(
            self.table,
            {Qt.Key.Key_Return: self.edit_selected, Qt.Key.Key_Enter: self.edit_selected},
        )
        self.set_button = QPushButton(translate("sophmate", "Set &budget…"))
        self.set_button.setObjectName("setBudgetButton")
        self.set_button.clicked.connect(self.edit_selected)
        self.message = MessageLabel("budgetsMessage")

        layout = QVBoxLayout(self)
        layout.addWidget(
            hint(
                self.tr(
                    "What a category may spend per day and per month (empty: no budget). "
                    "A spent budget pauses the category's workflows until someone resumes it."
                )
            )
        )
        layout.addWidget(self.table)
        layout.addLayout(button_row(self.set_button))
        layout.addWidget(self.message)
        self._update_buttons()

        self._refresh_later = Debouncer(self, self.refresh)
        services.events.listen(self)

    def _on_event(self, event: Event) -> None:
        concerns = event.kind.startswith("category.") or event.kind in (
            EventKind.DB_CHANGED,
            EventKind.SWITCHES_CHANGED,
        )
        if concerns and self.isVisible():
            self._refresh_later.poke()

    def refresh(self) -> None:
        selected = self.selected_row()
        rows = self.services.console.list_switches()
        self._rows = sorted((r for r in rows if r.scope == "category"), key=lambda r: r.name)
        self.table.setRowCount(len(self._rows))
        for i, row in enumerate(self._rows):
            state = "running"
            if row.paused:
                state = f"paused: {row.paused_reason}" if row.paused_reason else "paused"
            today, month = self.services.console.category_spending(row.name)
            spent = f"{spent_text(today)} / {spent_text(month)}"
            values = (
                row.name,
                money(row.budget_per_day),
                money(row.budget_per_month),
                state,
                spent,
            )
            for j, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                if j in (1, 2, 4):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(i, j, item)
            if selected is not None and row.name == selected.name:
                self.table.selectRow(i)
        self._update_buttons()

    def selected_row(self) -> SwitchRow | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self._rows):
            return None
        return self._rows[rows[0].row()]

    def _update_buttons(self) -> None:
        self.set_button.setEnabled(self.selected_row() is not None)

    def edit_selected(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        self.dialog = BudgetDialog(self.services, row, self)
        self.dialog.accepted.connect(self._saved)
        self.dialog.open()

    def _saved(self) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is None or dialog.saved is None:
            return
        result = dialog.saved
        dialog.deleteLater()
        if result.paused_now:
            self.message.show_error(budget_outcome(result))
        else:
            self.message.show_ok(budget_outcome(result))
        self.refresh()
