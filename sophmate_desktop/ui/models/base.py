"""A table model over an SQL query, fetched a page at a time.

The console does the work in SQL: `fetch(offset, limit, sort_key, descending)`
returns frozen rows already sorted and filtered. The model only remembers the rows
it has been given; `canFetchMore`/`fetchMore` ask for the next page when the view
scrolls near the end (as qutebrowser's completion models do). Never put a
QSortFilterProxyModel over this model: sorting and filtering belong in the query.

A reset (new filters, a new order, a refresh) brings its first page with it: one
`modelReset`, never a reset followed by an insert. While a reset is announced the
model fetches nothing, so a listener that asks for more on `modelReset` (a view,
Qt's model tester) cannot insert rows into a change the others have not seen end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from sophmate_desktop.ui.translation import translate

# Item roles shared by every table (module constants, as Picard does).
ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the frozen row dataclass
ID_ROLE = Qt.ItemDataRole.UserRole + 2  # the row's primary key
SORT_KEY_ROLE = Qt.ItemDataRole.UserRole + 3

Fetch = Callable[[int, int, str | None, bool], Sequence[Any]]
AnyIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    title: str
    value: Callable[[Any], Any]  # row -> text (or number) shown in the cell
    sort_key: str | None = None  # the SQL sort key the console understands; None = unsortable
    tooltip: Callable[[Any], str] | None = None
    foreground: Callable[[Any], Any] | None = None  # row -> QColor | None
    align_right: bool = False


class LazyTableModel(QAbstractTableModel):
    def __init__(
        self,
        columns: Sequence[Column],
        fetch: Fetch,
        *,
        page_size: int = 200,
        row_id: Callable[[Any], Any] = lambda row: row.id,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._fetch = fetch
        self._page_size = page_size
        self._row_id = row_id
        self._rows: list[Any] = []
        self._exhausted = False
        self._resetting = False
        self._sort_key: str | None = None
        self._descending = True

    # What the view asks ------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return translate("sophmate", self._columns[section].title)
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            value = column.value(row)
            return "" if value is None else str(value)
        if role == ROW_ROLE:
            return row
        if role == ID_ROLE:
            return self._row_id(row)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip is not None:
            return column.tooltip(row)
        if role == Qt.ItemDataRole.ForegroundRole and column.foreground is not None:
            return column.foreground(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted and not self._resetting

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent):
            return
        page = list(self._fetch(len(self._rows), self._page_size, self._sort_key, self._descending))
        if len(page) < self._page_size:
            self._exhausted = True
        if not page:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._rows.extend(page)
        self.endInsertRows()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = self._columns[column].sort_key
        if key is None:
            return
        self._sort_key = key
        self._descending = order == Qt.SortOrder.DescendingOrder
        self.reload()

    # What the page asks ------------------------------------------------

    def set_fetch(self, fetch: Fetch) -> None:
        """New filters: the page builds a new fetch closure and the rows start over."""
        self._fetch = fetch
        self.reload()

    def reload(self) -> None:
        """Start over from the first page (read before the reset: if the read fails,
        the rows shown stay)."""
        page = list(self._fetch(0, self._page_size, self._sort_key, self._descending))
        self.replace_rows(page, exhausted=len(page) < self._page_size)

    def replace_rows(self, rows: Sequence[Any], exhausted: bool) -> None:
        """Show these rows (read here or in the background) as the first pages."""
        self._resetting = True
        try:
            self.beginResetModel()
            self._rows = list(rows)
            self._exhausted = exhausted
            self.endResetModel()
        finally:
            self._resetting = False

    def row_at(self, row: int) -> Any:
        return self._rows[row]

    def loaded_rows(self) -> list[Any]:
        return list(self._rows)

    def fetch_all(self) -> None:
        """Load every remaining page (for "select all" and for tests)."""
        while self.canFetchMore():
            self.fetchMore()

    def row_of(self, row_id: Any) -> int | None:
        for i, row in enumerate(self._rows):
            if self._row_id(row) == row_id:
                return i
        return None
