"""A run's prompt calls (its Prompts tab): one line per call of a prompt step, with
the model, tokens, latency, cost and the provider's request id, and below the table
what the selected call sent and what came back (secrets masked when recorded)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt
from PySide6.QtGui import QColor, QFontDatabase
from PySide6.QtWidgets import (
    QHeaderView,
    QPlainTextEdit,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.domain.run_account import cost_text
from sophmate_desktop.store.rows import PromptCallRow
from sophmate_desktop.ui.models.base import ROW_ROLE, Column, LazyTableModel
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.run_columns import GREY, RED, list_fetch, when
from sophmate_desktop.ui.widgets.tables import setup_rows

STATUS_COLOURS = {"failed": RED, "placeholder": GREY}


def _colour(c: PromptCallRow) -> QColor | None:
    return STATUS_COLOURS.get(c.status)


def prompt_columns() -> list[Column]:
    return [
        Column(QT_TRANSLATE_NOOP("sophmate", "#"), lambda c: c.seq, align_right=True),
        Column(QT_TRANSLATE_NOOP("sophmate", "Step"), lambda c: c.step_name or f"steps[{c.step}]"),
        Column(QT_TRANSLATE_NOOP("sophmate", "About"), lambda c: c.about),
        Column(QT_TRANSLATE_NOOP("sophmate", "Attempt"), lambda c: c.attempt, align_right=True),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Status"),
            lambda c: c.status,
            foreground=_colour,
            tooltip=lambda c: c.error or "",
        ),
        Column(QT_TRANSLATE_NOOP("sophmate", "Model"), lambda c: f"{c.model} ({c.provider})"),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Tokens"),
            lambda c: f"{c.tokens_in} + {c.tokens_out}",
            align_right=True,
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Latency"),
            lambda c: f"{c.latency_ms:.0f} ms",
            align_right=True,
        ),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Cost"), lambda c: cost_text(c.cost), align_right=True
        ),
        Column(QT_TRANSLATE_NOOP("sophmate", "Request id"), lambda c: c.request_id or ""),
        Column(QT_TRANSLATE_NOOP("sophmate", "At (UTC)"), lambda c: when(c.at)),
    ]


def call_text(c: PromptCallRow) -> str:
    parts = []
    if c.system:
        parts += [translate("sophmate", "System:"), c.system, ""]
    parts += [translate("sophmate", "Prompt:"), c.prompt, ""]
    parts += [translate("sophmate", "Answer:"), c.answer or translate("sophmate", "(none)")]
    if c.error:
        parts += ["", translate("sophmate", "Error:"), c.error]
    return "\n".join(parts)


class PromptCallsView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runPrompts")
        self.model = LazyTableModel(
            prompt_columns(), list_fetch(()), row_id=lambda c: c.seq, parent=self
        )
        self.table = QTableView()
        setup_rows(self.table, "runPromptsTable")
        self.table.setModel(self.model)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.text = QPlainTextEdit()
        self.text.setObjectName("promptCallText")
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlaceholderText(self.tr("Select a call to read what it sent and got back."))
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _old: self._show(current.data(ROW_ROLE))
        )
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.text)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def set_calls(self, calls: tuple[PromptCallRow, ...]) -> None:
        self.model.set_fetch(list_fetch(calls))
        self.model.fetch_all()
        self.table.resizeColumnsToContents()
        self.text.clear()
        if calls:
            self.table.selectRow(0)

    def _show(self, call: Any) -> None:
        self.text.setPlainText(call_text(call) if call is not None else "")
