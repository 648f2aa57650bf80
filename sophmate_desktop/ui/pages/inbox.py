"""The approval inbox: pending and interrupted writes, a preview, and the decisions.

The table is a LazyTableModel over `console.inbox_rows` (sorted, filtered and paged
in SQL). Refreshes (on events, when the page is shown, after a decision) read the rows
and the counts in the background (ui/background_read.py) and swap them in when they
arrive; scrolling, sorting and filtering load the next or first page as a lazy model
does. Decisions run in the background through services.tasks; a refusal (kill switch,
four eyes) is said in place, above the buttons. After a decision the decided rows
leave the table and the next row is selected, so an approver can press A, A, A.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QModelIndex, Qt, Signal
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
from sophmate_desktop.ui.background_read import BackgroundRead
from sophmate_desktop.ui.bridge import BatchedEvents
from sophmate_desktop.ui.debounce import Debouncer
from sophmate_desktop.ui.models.base import LazyTableModel
from sophmate_desktop.ui.models.inbox_snapshot import InboxQuery, InboxSnapshot, read_inbox
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.inbox_columns import AGE_COLUMN, inbox_columns
from sophmate_desktop.ui.widgets.inbox_decisions import InboxDecisionBar, confirm_box, resolve_each
from sophmate_desktop.ui.widgets.inbox_filters import InboxFilterBar
from sophmate_desktop.ui.widgets.inbox_overview import PreviewSync
from sophmate_desktop.ui.widgets.inbox_preview import InboxPreview
from sophmate_desktop.ui.widgets.inbox_table import InboxTable
from sophmate_desktop.ui.widgets.inbox_undo import attach_inbox_undo
from sophmate_desktop.ui.widgets.inbox_words import (
    decided_message,
    decision_texts,
    gone_text,
    resolve_texts,
    resolved_message,
)

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


class InboxPage(BatchedEvents, QWidget):
    title = QT_TRANSLATE_NOOP("sophmate", "Inbox")
    title_changed = Signal(str)
    decision_finished = Signal()  # a decision's outcome is shown and the table reloaded
    refreshed = Signal()  # a background refresh is shown

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.console = services.console
        self._filters = InboxFilters()
        self._title = ""
        self._confirm_box: QMessageBox | None = None
        self._cursor: tuple[Any, int, InboxRow] | None = None  # (order, rows given, last row)
        # (keep, current, fallback row) a decision asked the next refresh to show
        self._after_decision: tuple[list[int], int | None, int] | None = None
        self._wanted = InboxQuery(None, False, self._filters, 0)  # the latest asked for
        self._reader = BackgroundRead(
            self, services.tasks, lambda: None, self._refreshed, self._refresh_failed
        )

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
        self.undo_button = attach_inbox_undo(self)

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
        services.events.listen(self)

        # Sorting by the age column (oldest first) loads the first page.
        self.table.horizontalHeader().setSortIndicator(AGE_COLUMN, Qt.SortOrder.DescendingOrder)
        self.table.setSortingEnabled(True)
        self.table.select_rows([0] if self.model.rowCount() else [], current=0)
        self.table.setFocus()  # A / R work at once; the filters load when reached for
        self._refresh_counts()  # its title arrives once the window listens

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

    def refresh(self, *, from_events: bool = False) -> None:
        """Re-read the inbox in the background; the selection and the scroll position
        stay when the rows arrive (`refreshed`)."""
        key, descending = self._sort()
        scroll = self.table.verticalScrollBar().value()
        # The rows up to the view, not every row loaded: rows below come back lazily as
        # the view scrolls (re-reading 100,000 loaded rows on each event doubled memory).
        wanted = max(scroll + self.table.visible_rows(), 1)
        limit = -(-wanted // PAGE_SIZE) * PAGE_SIZE  # whole pages
        self._request(InboxQuery(key, descending, self._filters, limit, from_events))

    def _refresh_counts(self) -> None:
        """Re-read only the counts and the title (the rows wait until the page is shown)."""
        key, descending = self._sort()
        self._request(InboxQuery(key, descending, self._filters, 0))

    @property
    def refreshing(self) -> bool:
        return self._reader.loading

    def _request(self, query: InboxQuery) -> None:
        if self._reader.loading and not query.limit:
            query = replace(query, limit=self._wanted.limit)  # never drop rows asked for
        self._wanted = query
        console = self.console
        self._reader.request(lambda: read_inbox(console, query))

    def _refreshed(self, snapshot: InboxSnapshot) -> None:
        query = snapshot.query
        key, descending = self._sort()
        moved = query.order != (key, descending, self._filters)
        if moved and (query.limit or query.filters != self._filters):
            self.refresh()  # sorted or filtered anew while it read: read for that
            return
        if query.limit:
            keep, current, fallback = self._after_decision or (
                self.selected_ids(),
                self.table.current_id(),
                self.table.first_selected_row(),
            )
            with self._preview_sync.refreshing(query.from_events):
                self._show_rows(snapshot, set(keep), current, fallback)
        self._show_counts(snapshot.shown, snapshot.total)
        self.refreshed.emit()
        self._decision_shown()

    def _refresh_failed(self, error: BaseException) -> None:
        self.filter_bar.count.setText(self.tr("Could not read the inbox"))
        self.filter_bar.count.setToolTip(str(error) or type(error).__name__)
        self._decision_shown()

    def _decision_shown(self) -> None:
        if self._after_decision is None:
            return
        self._after_decision = None
        self._preview_sync.show(again=True)  # the current write as it is now
        self.decisions.set_busy(False)
        self.table.setFocus()
        self.decision_finished.emit()

    def _show_counts(self, shown: int, total: int) -> None:
        self.filter_bar.set_count(shown, total)
        self._preview_sync.set_counts(shown, total)
        self.filter_bar.count.setToolTip("")
        self.filter_bar.choices_stale = True  # read when a person reaches for a filter
        title = translate("sophmate", self.title)  # with the count, like Notifications
        self._title = f"{title} ({total:,})" if total else title
        self._emit_title()

    def _load_choices(self) -> None:
        self.filter_bar.set_choices(self.console.inbox_choices())

    def _emit_title(self) -> None:
        self.title_changed.emit(self._title)

    def _show_rows(
        self, snapshot: InboxSnapshot, keep: set[int], current: int | None, fallback_row: int
    ) -> None:
        scroll = self.table.verticalScrollBar().value()
        loaded_before = self.model.rowCount()
        self.model.replace_rows(snapshot.rows, snapshot.exhausted)
        if snapshot.rows:
            self._cursor = (snapshot.query.order, len(snapshot.rows), snapshot.rows[-1])
        need = max(scroll + self.table.visible_rows(), fallback_row + 1)
        # Only when more rows were loaded while it read (show_write, scrolling).
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

    @functools.cached_property
    def _preview_sync(self) -> PreviewSync:
        return PreviewSync(self)

    def selected_rows(self) -> list[InboxRow]:
        return [self.model.row_at(i) for i in self.table.selected_row_numbers()]

    def selected_ids(self) -> list[int]:
        return [row.id for row in self.selected_rows()]

    def _selection_changed(self, *_args) -> None:
        rows = self.selected_rows()
        pending = sum(1 for r in rows if r.status == "pending")
        self.decisions.set_selection(pending, sum(1 for r in rows if r.status == "interrupted"))
        self._preview_sync.show()

    def _current_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        self._preview_sync.show()

    def _open_run_of(self, index: QModelIndex) -> None:
        if index.isValid():
            self.services.navigator.show_run(self.model.row_at(index.row()).run_id)

    # Filters and navigation ----------------------------------------------

    def _filters_changed(self, filters: InboxFilters) -> None:
        self._filters = filters
        self.model.set_fetch(self._fetch)
        self.table.select_rows([0] if self.model.rowCount() else [], 0)
        self._refresh_counts()

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
        self._load_until(position)
        row = self.model.row_of(write_id)
        if row is None:  # moved meanwhile: read again from the top and look once more
            self.model.reload()
            self._load_until(position)
            row = self.model.row_of(write_id)
        if row is not None:
            self.table.select_rows([row], row)
            self.table.scrollTo(
                self.model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtCenter
            )
            self.table.setFocus()

    def _load_until(self, position: int) -> None:
        while self.model.rowCount() <= position and self.model.canFetchMore():
            self.model.fetchMore()

    def _show_gone(self, write_id: int) -> None:
        """A write that no longer waits: show it (who decided, when) but select nothing."""
        try:
            row = self.console.get_write(write_id)
        except SophmateError as exc:
            self.decisions.set_message(str(exc), "warning")
            return
        self.table.select_rows([], None)
        self.preview.show_write(row)
        self.decisions.set_message(gone_text(write_id, row.status, row.decided_by))

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
            self.decisions.set_message(self.tr("Select a pending write first."), "warning")
            return
        comment = self.decisions.comment.text().strip() or None
        if verb == "reject" and not comment:
            self.decisions.set_message(
                self.tr("Rejecting needs a comment that says why: type it in the comment field."),
                "warning",
            )
            self.decisions.comment.setFocus()
            return
        call = self.console.approve if verb == "approve" else self.console.reject
        busy, question, detail = decision_texts(verb, len(pending), comment)

        def start() -> None:
            self._run(busy, lambda: call(pending, comment), self._decided)

        if len(pending) == 1:
            start()
            return
        self._confirm(question, detail, start)

    def mark_selected_applied(self) -> None:
        self._resolve("mark applied", self.console.mark_applied)

    def retry_selected(self) -> None:
        def retry(write_id: int, comment: str | None) -> str | None:
            row = self.console.retry_write(write_id, comment)
            return self.console.waits_for_resume(row.workflow)  # paused: it waits

        self._resolve("retry", retry)

    def _resolve(self, verb: str, call: Callable[[int, str | None], Any]) -> None:
        if self.busy:
            return
        ids = [r.id for r in self.selected_rows() if r.status == "interrupted"]
        if not ids:
            return
        comment = self.decisions.comment.text().strip() or None
        busy, question = resolve_texts(verb, len(ids))

        def start() -> None:
            self._run(busy, lambda: resolve_each(ids, call, comment), self._resolved)

        if len(ids) == 1:
            start()
        else:
            self._confirm(question, "", start)

    def _confirm(self, question: str, detail: str, then: Callable[[], None]) -> None:
        """A window-modal question that states the count; `then` runs on yes."""

        def closed(yes: bool) -> None:
            self._confirm_box = None
            if yes:
                then()

        self._confirm_box = confirm_box(self, question, detail, closed)

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
        self.decisions.set_message(*decided_message(results))
        if any(r.ok for r in results):
            self.decisions.comment.clear()
        self._finish(context, keep=[r.write_id for r in results if not r.ok])

    def _resolved(
        self, result: tuple[list[tuple[int, str | None]], list[str]], context: dict
    ) -> None:
        outcome, waits = result
        self.decisions.set_message(*resolved_message(outcome, waits))
        if not any(message for _wid, message in outcome):
            self.decisions.comment.clear()
        self._finish(context, keep=[wid for wid, message in outcome if message])

    def _failed(self, exc: BaseException, context: dict) -> None:
        # The task runner has logged (and reported) it unless it is a refusal.
        self.decisions.set_message(str(exc) or type(exc).__name__, "error")
        self._finish(context, keep=self.selected_ids())

    def _finish(self, context: dict, keep: list[int]) -> None:
        """Refresh, keeping `keep` selected; busy until the rows are shown."""
        self._debounce.cancel()  # this refresh covers the events the decision sent
        self._after_decision = (keep, keep[0] if keep else None, context["first"])
        self.refresh()

    # Events --------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if concerns_inbox(event.kind):
            self._debounce.poke()

    def _refresh_from_events(self) -> None:
        if self.busy:
            return  # the decision's own reload follows
        if self.isVisible():
            self.refresh(from_events=True)
        else:
            self._refresh_counts()
