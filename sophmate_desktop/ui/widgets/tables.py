"""How every table of the app behaves: whole rows are selected, nothing is edited in
place, no row numbers. Pages add their own sorting, widths and stretch. And how a
page reads and sets the selected row of a table over a LazyTableModel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractItemModel,
    QCoreApplication,
    QItemSelectionModel,
    Qt,
)
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from sophmate_desktop.ui.models.base import ROW_ROLE, LazyTableModel

# What a screen reader announces for each table (by object name), and how to use it.
ACCESSIBLE = {
    "inboxTable": (
        QT_TRANSLATE_NOOP("tables", "Writes waiting for approval"),
        QT_TRANSLATE_NOOP("tables", "A approves, R rejects; Enter opens the run"),
    ),
    "runsTable": (
        QT_TRANSLATE_NOOP("tables", "Run history"),
        QT_TRANSLATE_NOOP("tables", "Enter opens the run's page"),
    ),
    "auditTable": (
        QT_TRANSLATE_NOOP("tables", "Audit trail"),
        QT_TRANSLATE_NOOP("tables", "Select an event to read its details"),
    ),
    "workflowTable": (
        QT_TRANSLATE_NOOP("tables", "Workflows"),
        QT_TRANSLATE_NOOP("tables", "Enter opens the workflow in the editor"),
    ),
    "noticeTable": (
        QT_TRANSLATE_NOOP("tables", "Notifications"),
        QT_TRANSLATE_NOOP("tables", "Select a notice to read it"),
    ),
    "reviewsTable": (
        QT_TRANSLATE_NOOP("tables", "Reviews due"),
        QT_TRANSLATE_NOOP("tables", "Select a workflow, then record its review"),
    ),
    "reviewEscalationsTable": (
        QT_TRANSLATE_NOOP("tables", "Escalated workflows"),
        QT_TRANSLATE_NOOP("tables", "Why each needs a closer look"),
    ),
    "runsAwaitingReviewTable": (
        QT_TRANSLATE_NOOP("tables", "Runs awaiting review"),
        QT_TRANSLATE_NOOP("tables", "Runs a review would cover"),
    ),
    "runTimelineTable": (
        QT_TRANSLATE_NOOP("tables", "The run's timeline"),
        QT_TRANSLATE_NOOP("tables", "What happened to the run, in order"),
    ),
    "runWritesTable": (
        QT_TRANSLATE_NOOP("tables", "The run's writes"),
        QT_TRANSLATE_NOOP("tables", "Each write the run planned and its state"),
    ),
    "escalationTable": (
        QT_TRANSLATE_NOOP("tables", "Escalations"),
        QT_TRANSLATE_NOOP("tables", "Workflows that need a closer look"),
    ),
    "dashReviewsTable": (
        QT_TRANSLATE_NOOP("tables", "Reviews due"),
        QT_TRANSLATE_NOOP("tables", "Double-click opens the workflow"),
    ),
    "categoryHealthTable": (
        QT_TRANSLATE_NOOP("tables", "Categories"),
        QT_TRANSLATE_NOOP("tables", "Each category's runs, failures and held runs"),
    ),
    "failuresTable": (
        QT_TRANSLATE_NOOP("tables", "Failures not yet acknowledged"),
        QT_TRANSLATE_NOOP("tables", "Acknowledge or open the run"),
    ),
    "secretsTable": (
        QT_TRANSLATE_NOOP("tables", "Secrets"),
        QT_TRANSLATE_NOOP("tables", "Names only: the values stay in the keyring"),
    ),
    "budgetsTable": (
        QT_TRANSLATE_NOOP("tables", "Cost budgets"),
        QT_TRANSLATE_NOOP("tables", "Each category's budgets"),
    ),
    "connectionsTable": (
        QT_TRANSLATE_NOOP("tables", "Connections"),
        QT_TRANSLATE_NOOP("tables", "Edit opens a connection"),
    ),
}


def name_for_access(view: QAbstractItemView, object_name: str) -> None:
    """The accessible name and description of a table (its object name spelt out
    when it has no entry above)."""
    name, description = ACCESSIBLE.get(object_name, (None, ""))
    if name is None:
        words = "".join(f" {c.lower()}" if c.isupper() else c for c in object_name)
        name = words.strip().capitalize()
    view.setAccessibleName(QCoreApplication.translate("tables", name))
    view.setAccessibleDescription(QCoreApplication.translate("tables", description))


def setup_rows(
    view: QTableView,
    object_name: str,
    *,
    multi_select: bool = False,
    alternating: bool = True,
    widths: Sequence[int] = (),
) -> None:
    """Make `view` a read-only table of whole rows; `widths` are the first columns'."""
    view.setObjectName(object_name)
    name_for_access(view, object_name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    mode = QAbstractItemView.SelectionMode
    view.setSelectionMode(mode.ExtendedSelection if multi_select else mode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(alternating)
    view.verticalHeader().hide()
    for column, width in enumerate(widths):
        view.setColumnWidth(column, width)


def row_table(
    object_name: str, model: QAbstractItemModel, widths: Sequence[int] = ()
) -> QTableView:
    """A new QTableView over `model`, set up by `setup_rows`."""
    view = QTableView()
    view.setModel(model)
    setup_rows(view, object_name, widths=widths)
    return view


def history_table(object_name: str, model: QAbstractItemModel, widths: Sequence[int]) -> QTableView:
    """A history (runs, audit events): newest first by the first column; the person
    resizes the columns, the last one takes the rest."""
    view = row_table(object_name, model, widths=widths)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    view.setSortingEnabled(True)
    view.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    return view


def selected_data(view: QTableView, role: int = ROW_ROLE) -> Any:
    """The selected row's frozen row (ID_ROLE: its id), or None."""
    rows = view.selectionModel().selectedRows()
    return rows[0].data(role) if rows else None


def select_id(view: QTableView, row_id: Any, *, load_more: bool = False) -> bool:
    """Select and show the row whose id is `row_id`; with `load_more`, load further
    pages until it is there. False when it is not (loaded)."""
    model = view.model()
    assert isinstance(model, LazyTableModel)
    row = model.row_of(row_id)
    while row is None and load_more and model.canFetchMore():
        model.fetchMore()
        row = model.row_of(row_id)
    if row is None:
        return False
    index = model.index(row, 0)
    flags = QItemSelectionModel.SelectionFlag
    view.selectionModel().setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
    view.scrollTo(index)
    return True
