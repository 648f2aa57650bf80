"""The approval inbox: pending and interrupted writes, a preview, and the decisions.

The table is a LazyTableModel over `console.inbox_rows` (sorted, filtered and paged
in SQL). Decisions run in the background through services.tasks; a refusal (kill
switch, four eyes) is said in place, above the buttons. After a decision the decided
rows leave the table and the next row is selected, so an approver can press A, A, A.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.console.inbox_pages import InboxFilters, InboxRow
from sophmate_desktop.domain.errors import SophmateError
from sophmate_desktop.domain.events import Event
from sophmate_desktop.domain.names import EventKind
from sophmate_desktop.ui import navigator as nav
from sophmate_desktop.ui.debounce import Debouncer
from sophmate_desktop.ui.models.base import LazyTableModel
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.widgets.inbox_columns import AGE_COLUMN, inbox_columns
from sophmate_desktop.ui.widgets.inbox_decisions import InboxDecisionBar
from sophmate_desktop.ui.widgets.inbox_filters import InboxFilterBar
from sophmate_desktop.ui.widgets.inbox_preview import InboxPreview
from sophmate_desktop.ui.widgets.inbox_table import InboxTable

log = logging.getLogger(__name__)

PAGE_SIZE = 200
REFRESH_PREFIXES = (
    "write.",
    "writes.",
    "run.",
    EventKind.RUNS_CREATED,
    EventKind.DB_CHANGED,
    EventKind.SWITCHES_CHANGED,
    EventKind.NOTIFICATION,
    "global.",
    "category.",
    "effect.",
    "workflow.",
)


def concerns_inbox(kind: str) -> bool:
    return kind.startswith(REFRESH_PREFIXES)


def _plural(n: int, noun: str = "write") -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


class InboxPage(QWidget):
    title = "Inbox"
    title_changed = Signal(str)
    decision_finished = Signal()  # a decision's outcome is shown and the table reloaded

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.console = services.console
        self._filters = InboxFilters()
        self._title = ""
        self._confirm_box: QMessageBox | None = None
        self._cursor: tuple[Any, int, InboxRow] | None = None  # (order, rows given, last row)

        self.filter_bar = InboxFilterBar()
        self.filter_bar.filters_changed.connect(self._filters_changed)
        self.filter_bar.choices_needed.connect(self._load_choices)
        self.model = LazyTableModel(inbox_columns(), self._fetch, page_size=PAGE_SIZE, parent=self)
        self.table = InboxTable(self.model)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.activated.connect(self._open_run_of)
        self.preview = InboxPreview()
        self.preview.open_run_requested.connect(services.navigator.show_run)
        self.decisions = InboxDecisionBar()
        self.decisions.approve.clicked.connect(self.approve_selected)
        self.decisions.reject.clicked.connect(self.reject_selected)
        self.decisions.mark_applied.clicked.connect(self.mark_selected_applied)
        self.decisions.retry.clicked.connect(self.retry_selected)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("inboxSplitter")
        splitter.addWidget(self.table)
        splitter.addWidget(self.preview)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter_bar)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.decisions)

        for key, slot in (
            (Qt.Key.Key_A, self.approve_selected),
            (Qt.Key.Key_R, self.reject_selected),
        ):
            shortcut = QShortcut(QKeySequence(key), self.table)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(slot)
        # The whole window while the inbox is shown (a hidden page's shortcut never
        # fires): after Ctrl+2 or the side bar the focus is not inside the page yet.
        find = QShortcut(QKeySequence.StandardKey.Find, self)
        find.setContext(Qt.ShortcutContext.WindowShortcut)
        find.activated.connect(self.filter_bar.focus_first)
        services.navigator.page_requested.connect(self._requested)

        self._debounce = Debouncer(self, self._refresh_from_events)
        services.events.event_received.connect(self._on_event)

        # Sorting by the age column (oldest first) loads the first page.
        self.table.horizontalHeader().setSortIndicator(AGE_COLUMN, Qt.SortOrder.DescendingOrder)
        self.table.setSortingEnabled(True)
        self.table.select_rows([0] if self.model.rowCount() else [], current=0)
        self.table.setFocus()  # A / R work at once; the filters load when reached for
        self._refresh_side(emit_title=False)
        QTimer.singleShot(0, self, self._emit_title)  # once the window listens

    # Reading -------------------------------------------------------------

    def _fetch(
        self, offset: int, limit: int, sort_key: str | None, descending: bool
    ) -> Sequence[InboxRow]:
        # The next page of the same order starts after the last row given (keyset
        # paging); OFFSET would step over every earlier row again (40 s to scroll
        # through 100,000 writes instead of a few).
        order = (sort_key, descending, self._filters)
        after = None
        if offset and self._cursor is not None and self._cursor[:2] == (order, offset):
            after = self._cursor[2]
        rows = self.console.inbox_rows(
            0 if after else offset, limit, sort_key, descending, self._filters, after=after
        )
        if rows:
            self._cursor = (order, offset + len(rows), rows[-1])
        return rows

    def _sort(self) -> tuple[str | None, bool]:
        header = self.table.horizontalHeader()
        section = header.sortIndicatorSection()
        columns = inbox_columns()
        key = columns[section].sort_key if 0 <= section < len(columns) else None
        return key, header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder

    def refresh(self) -> None:
        """Re-read the inbox, keeping the selection and the scroll position."""
        ids = self.selected_ids()
        current = self.table.current_id()
        first = self.table.first_selected_row()
        self._reload(keep=ids, current=current, fallback_row=first)
        self._refresh_side()

    def _refresh_side(self, emit_title: bool = True) -> None:
        total = self.console.inbox_count()
        shown = self.console.inbox_count(self._filters) if self._filters.active else total
        self.filter_bar.set_count(shown, total)
        self.filter_bar.choices_stale = True  # read when a person reaches for a filter
        self._title = f"Inbox ({total:,})" if total else "Inbox"  # like Notifications
        if emit_title:
            self._emit_title()

    def _load_choices(self) -> None:
        self.filter_bar.set_choices(self.console.inbox_choices())

    def _emit_title(self) -> None:
        self.title_changed.emit(self._title)

    def _reload(self, keep: Iterable[int], current: int | None, fallback_row: int) -> None:
        keep = set(keep)
        scroll = self.table.verticalScrollBar().value()
        loaded_before = self.model.rowCount()
        self.model.reload()
        need = max(scroll + self.table.visible_rows(), fallback_row + 1)
        while self.model.canFetchMore() and self.model.rowCount() < loaded_before:
            if self.model.rowCount() >= need and keep <= set(self._row_numbers(keep)):
                break
            self.model.fetchMore()
        rows = sorted(self._row_numbers(keep).values())
        current_row = self._row_numbers([current]).get(current) if current is not None else None
        if not rows and self.model.rowCount():
            rows = [min(fallback_row, self.model.rowCount() - 1)]
        if current_row is None and rows:
            current_row = rows[0]
        self.table.verticalScrollBar().setValue(scroll)
        self.table.select_rows(rows, current_row)

    def _row_numbers(self, ids: Iterable[int | None]) -> dict[int, int]:
        wanted = set(ids)
        if not wanted:
            return {}
        return {row.id: i for i, row in enumerate(self.model.loaded_rows()) if row.id in wanted}

    # Selection -----------------------------------------------------------

    def selected_rows(self) -> list[InboxRow]:
        return [self.model.row_at(i) for i in self.table.selected_row_numbers()]

    def selected_ids(self) -> list[int]:
        return [row.id for row in self.selected_rows()]

    def _selection_changed(self, *_args) -> None:
        rows = self.selected_rows()
        pending = sum(1 for r in rows if r.status == "pending")
        self.decisions.set_selection(pending, sum(1 for r in rows if r.status == "interrupted"))

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self.preview.show_write(None)
            return
        try:
            self.preview.show_write(self.console.get_write(self.model.row_at(current.row()).id))
        except SophmateError:  # decided and gone meanwhile: the next refresh drops it
            self.preview.show_write(None)

    def _open_run_of(self, index: QModelIndex) -> None:
        if index.isValid():
            self.services.navigator.show_run(self.model.row_at(index.row()).run_id)

    # Filters and navigation ----------------------------------------------

    def _filters_changed(self, filters: InboxFilters) -> None:
        self._filters = filters
        self.model.set_fetch(self._fetch)
        self.table.select_rows([0] if self.model.rowCount() else [], 0)
        self._refresh_side()

    def _requested(self, key: str) -> None:
        """Opened from the tray, a notice or the dashboard: A, R and Enter act at once
        (the side bar keeps its own focus, so arrow keys still walk the pages)."""
        if key == nav.INBOX:
            self.table.setFocus()  # a hidden widget takes the focus once shown

    def set_filters(self, filters: InboxFilters) -> None:
        self.filter_bar.set_filters(filters)

    def show_write(self, write_id: int) -> None:
        """Select `write_id` (loading pages until it is there); clear filters that hide it."""
        key, descending = self._sort()
        position = self.console.inbox_position(write_id, key, descending, self._filters)
        unfiltered = None
        if position is None and self._filters.active:
            unfiltered = self.console.inbox_position(write_id, key, descending)
        if unfiltered is not None:
            self.filter_bar.clear()  # the filters hid it: show everything, then find it
            position = self.console.inbox_position(write_id, key, descending)
        if position is None:
            self._show_gone(write_id)
            return
        while self.model.rowCount() <= position and self.model.canFetchMore():
            self.model.fetchMore()
        row = self.model.row_of(write_id)
        if row is None:  # moved meanwhile: reload and look again in what is loaded
            self.refresh()
            row = self.model.row_of(write_id)
        if row is not None:
            self.table.select_rows([row], row)
            self.table.scrollTo(
                self.model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtCenter
            )
            self.table.setFocus()

    def _show_gone(self, write_id: int) -> None:
        """A write that no longer waits: show it (who decided, when) but select nothing."""
        try:
            row = self.console.get_write(write_id)
        except SophmateError as exc:
            self.decisions.set_message(str(exc), "warning")
            return
        self.table.select_rows([], None)
        self.preview.show_write(row)
        by = f" by {row.decided_by}" if row.decided_by else ""
        self.decisions.set_message(f"Write {write_id} no longer waits: it is {row.status}{by}.")

    # Decisions -----------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.decisions.is_busy

    def approve_selected(self) -> None:
        self._decide("approve")

    def reject_selected(self) -> None:
        self._decide("reject")

    def _decide(self, verb: str) -> None:
        if self.busy:
            return
        pending = [r.id for r in self.selected_rows() if r.status == "pending"]
        if not pending:
            self.decisions.set_message("Select a pending write first.", "warning")
            return
        comment = self.decisions.comment.text().strip() or None
        if verb == "reject" and not comment:
            self.decisions.set_message(
                "Rejecting needs a comment that says why: type it in the comment field.",
                "warning",
            )
            self.decisions.comment.setFocus()
            return
        call = self.console.approve if verb == "approve" else self.console.reject

        def start() -> None:
            self._run(
                f"{'Approving' if verb == 'approve' else 'Rejecting'} {_plural(len(pending))}…",
                lambda: call(pending, comment),
                self._decided,
            )

        if len(pending) == 1:
            start()
            return
        detail = f"Comment: “{comment}”" if comment else "No comment."
        if verb == "approve":
            detail += " The engine applies approved writes at once."
        self._confirm(f"{verb.capitalize()} {_plural(len(pending))}?", detail, start)

    def mark_selected_applied(self) -> None:
        self._resolve("mark applied", self.console.mark_applied)

    def retry_selected(self) -> None:
        self._resolve("retry", self.console.retry_write)

    def _resolve(self, verb: str, call: Callable[[int, str | None], Any]) -> None:
        if self.busy:
            return
        ids = [r.id for r in self.selected_rows() if r.status == "interrupted"]
        if not ids:
            return
        comment = self.decisions.comment.text().strip() or None

        def each() -> list[tuple[int, str | None]]:
            outcome = []
            for write_id in ids:
                try:
                    call(write_id, comment)
                    outcome.append((write_id, None))
                except SophmateError as exc:
                    outcome.append((write_id, str(exc)))
            return outcome

        def start() -> None:
            self._run(f"{verb.capitalize()}: {_plural(len(ids))}…", each, self._resolved)

        if len(ids) == 1:
            start()
        else:
            self._confirm(f"{verb.capitalize()} {_plural(len(ids))}?", "", start)

    def _confirm(self, question: str, detail: str, then: Callable[[], None]) -> None:
        """A window-modal question that states the count; `then` runs on yes."""
        box = QMessageBox(QMessageBox.Icon.Question, "Confirm", question, parent=self)
        box.setObjectName("confirmDecision")
        box.setInformativeText(detail)
        yes = box.addButton(question.rstrip("?"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(yes)
        self._confirm_box = box

        def done(_result: int) -> None:
            self._confirm_box = None
            box.deleteLater()
            if box.clickedButton() is yes:
                then()

        box.finished.connect(done)
        box.open()

    @property
    def confirmation(self) -> QMessageBox | None:
        """The open confirmation, if any (what a person sees before a bulk decision)."""
        return self._confirm_box

    def _run(self, busy_text: str, fn: Callable[[], Any], done: Callable[[Any, dict], None]):
        context = {
            "first": self.table.first_selected_row(),
        }
        self.decisions.set_busy(True)
        self.decisions.set_message(busy_text)
        self.services.tasks.run(
            fn,
            on_success=lambda result: done(result, context),
            on_failure=lambda exc: self._failed(exc, context),
        )

    def _decided(self, results: list, context: dict) -> None:
        ok = [r for r in results if r.ok]
        refused = [r for r in results if not r.ok]
        verb = "approved" if not ok or ok[0].status == "approved" else "rejected"
        if not refused:
            text = (
                f"Write {ok[0].write_id} {verb}." if len(ok) == 1 else f"{len(ok):,} writes {verb}."
            )
            self.decisions.set_message(text, "ok")
        elif len(results) == 1:
            self.decisions.set_message(refused[0].message, "error")
        else:
            more = f" (and {len(refused) - 1:,} more)" if len(refused) > 1 else ""
            self.decisions.set_message(
                f"{len(ok):,} of {_plural(len(results))} done; {len(refused):,} refused: "
                f"{refused[0].message}{more}",
                "error",
            )
        if ok:
            self.decisions.comment.clear()
        self._finish(context, keep=[r.write_id for r in refused])

    def _resolved(self, outcome: list[tuple[int, str | None]], context: dict) -> None:
        errors = [message for _wid, message in outcome if message]
        done = len(outcome) - len(errors)
        if errors:
            self.decisions.set_message(errors[0], "error")
        else:
            self.decisions.set_message(f"{_plural(done)} resolved.", "ok")
            self.decisions.comment.clear()
        self._finish(context, keep=[wid for wid, message in outcome if message])

    def _failed(self, exc: BaseException, context: dict) -> None:
        self.decisions.set_message(str(exc) or type(exc).__name__, "error")
        if not isinstance(exc, SophmateError):
            log.error("inbox decision failed", exc_info=exc)
        self._finish(context, keep=self.selected_ids())

    def _finish(self, context: dict, keep: list[int]) -> None:
        self.decisions.set_busy(False)
        self._debounce.cancel()  # this reload covers the events the decision sent
        self._reload(keep=keep, current=keep[0] if keep else None, fallback_row=context["first"])
        self._refresh_side()
        self.table.setFocus()
        self.decision_finished.emit()

    # Events --------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if concerns_inbox(event.kind):
            self._debounce.poke()

    def _refresh_from_events(self) -> None:
        if self.busy:
            return  # the decision's own reload follows
        if self.isVisible():
            self.refresh()
        else:
            self._refresh_side()
