"""The notification centre: every notice the tray shows (and what it would show where
no tray exists), repeats grouped ("×3"), failures acknowledged here (audited)."""

from __future__ import annotations

from dataclasses import replace
from html import escape

from PySide6.QtCore import QT_TRANSLATE_NOOP, QItemSelection, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.console.notices import NoticeRow
from sophmate_desktop.domain.events import Event
from sophmate_desktop.domain.names import EventKind
from sophmate_desktop.ui import navigator as nav
from sophmate_desktop.ui.background_read import BackgroundRead
from sophmate_desktop.ui.bridge import BatchedEvents
from sophmate_desktop.ui.debounce import Debouncer
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.notice_deliveries import NoticeDeliveries
from sophmate_desktop.ui.widgets.notice_table import (
    COUNT_IN_TITLE,
    KIND_FILTERS,
    NoticeTableModel,
    kind_words,
    notice_state,
    notice_title,
)
from sophmate_desktop.ui.widgets.switch_text import PAUSED_RED, local_time
from sophmate_desktop.ui.widgets.tables import row_table, select_id, selected_data

INBOX_KINDS = ("writes_pending", "write_interrupted")
EVENT_PREFIXES = ("notice", "run.", "workflow.", "write.")
EVENT_KINDS = frozenset({EventKind.NOTIFICATION, EventKind.DB_CHANGED})


class NotificationsPage(BatchedEvents, QWidget):
    title = QT_TRANSLATE_NOOP("sophmate", "Notifications")
    title_changed = Signal(str)

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.unread = 0

        show_label = self._build_filters()
        self._build_table()
        self._build_detail()
        self._lay_out(show_label)
        self._connect_signals()
        self._refresh_later = Debouncer(self, self._on_change)
        # A failed count keeps the old title (the task runner reports the failure).
        self._count_reader = BackgroundRead(
            self,
            services.tasks,
            services.console.unread_notice_count,
            self._show_unread,
            lambda _error: None,
        )
        services.events.listen(self)
        self._show_selected(None)
        self.update_title()  # sent once the window has connected title_changed

    def _build_filters(self) -> QLabel:
        self.kind_filter = QComboBox()
        self.kind_filter.setObjectName("noticeKindFilter")
        for label, kinds in KIND_FILTERS:
            self.kind_filter.addItem(translate("sophmate", label), kinds)
        show_label = QLabel(translate("sophmate", "&Show:"))
        show_label.setBuddy(self.kind_filter)
        self.unread_only = QCheckBox(translate("sophmate", "&Unread only"))
        self.unread_only.setObjectName("noticeUnreadOnly")
        self.mark_all_button = QPushButton(translate("sophmate", "&Mark all read"))
        self.mark_all_button.setObjectName("markAllReadButton")
        return show_label

    def _build_table(self) -> None:
        self.model = NoticeTableModel(self._fetch, self)
        self.table = row_table("noticeTable", self.model)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        self.table.setSortingEnabled(True)
        for column, width in ((0, 110), (1, 70), (2, 120), (4, 140), (5, 60), (6, 200)):
            self.table.setColumnWidth(column, width)

    def _build_detail(self) -> None:
        self.detail = QTextBrowser()
        self.detail.setObjectName("noticeDetail")
        self.detail.setOpenLinks(False)
        self.deliveries = NoticeDeliveries(self.services, self)
        self.comment_edit = QLineEdit()
        self.comment_edit.setObjectName("ackCommentEdit")
        self.comment_edit.setPlaceholderText(
            translate("sophmate", "Comment for the acknowledgement (optional)")
        )
        self.ack_button = QPushButton(translate("sophmate", "&Acknowledge"))
        self.ack_button.setObjectName("acknowledgeButton")
        self.ack_button.setToolTip(
            self.tr(
                "Take this failure off the dashboard; recorded in the audit trail with your comment"
            )
        )
        self.open_run_button = QPushButton(translate("sophmate", "Open &run"))
        self.open_run_button.setObjectName("openRunButton")
        self.open_inbox_button = QPushButton(translate("sophmate", "Open &inbox"))
        self.open_inbox_button.setObjectName("openInboxButton")
        self.message = QLabel()
        self.message.setObjectName("noticeMessage")
        self.message.setWordWrap(True)

    def _lay_out(self, show_label: QLabel) -> None:
        top = QHBoxLayout()
        top.addWidget(show_label)
        top.addWidget(self.kind_filter)
        top.addWidget(self.unread_only)
        top.addStretch(1)
        top.addWidget(self.mark_all_button)
        actions = QHBoxLayout()
        actions.addWidget(self.comment_edit, 1)
        actions.addWidget(self.ack_button)
        actions.addWidget(self.open_run_button)
        actions.addWidget(self.open_inbox_button)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.detail, 1)
        lower_layout.addWidget(self.deliveries)
        lower_layout.addLayout(actions)
        lower_layout.addWidget(self.message)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

    def _connect_signals(self) -> None:
        self.kind_filter.currentIndexChanged.connect(self._filters_changed)
        self.unread_only.toggled.connect(self._filters_changed)
        self.mark_all_button.clicked.connect(self.mark_all_read)
        self.ack_button.clicked.connect(self.acknowledge)
        self.open_run_button.clicked.connect(self.open_run)
        self.open_inbox_button.clicked.connect(lambda: self.services.navigator.show_page(nav.INBOX))
        self.table.activated.connect(lambda _index: self.open_selected())
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.model.modelReset.connect(lambda: self._show_selected(self.selected()))

    # Reading -------------------------------------------------------------

    def _fetch(self, offset: int, limit: int, sort_key: str | None, descending: bool):
        return self.services.console.list_notices(
            limit,
            offset,
            unread_only=self.unread_only.isChecked(),
            kinds=self.kind_filter.currentData(),
            sort=sort_key,
            descending=descending,
        )

    def refresh(self) -> None:
        """Re-read the notices (called when the page is shown), keeping the selection."""
        selected = self.selected()
        self.model.reload()
        if selected is not None:
            self.select_notice(selected.id)
        else:
            self._show_selected(None)
        self.update_title()

    def _filters_changed(self, *_args) -> None:
        self.refresh()

    def _on_event(self, event: Event) -> None:
        if event.kind in EVENT_KINDS or event.kind.startswith(EVENT_PREFIXES):
            self._refresh_later.poke()

    def _on_change(self) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self.update_title()

    def update_title(self) -> None:
        """Count the unread notices in the background; the title follows."""
        self._count_reader.request()

    def _show_unread(self, unread: int) -> None:
        self.unread = unread
        title = translate("sophmate", self.title)
        self.title_changed.emit(f"{title} ({self.unread})" if self.unread else title)

    def selected(self) -> NoticeRow | None:
        return selected_data(self.table)

    def select_notice(self, notice_id: int) -> bool:
        if select_id(self.table, notice_id, load_more=True):
            return True
        self._show_selected(None)
        return False

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        row = self.selected()
        self._show_selected(row)
        if row is not None and self.model.is_unread(row):
            try:
                self.services.console.mark_notices_read([row.id])
            except Exception as exc:
                self.show_message(
                    self.tr("Could not mark it read: {exc}").format(exc=exc), error=True
                )
                return
            self.model.mark_read_here([row.id])
            self._show_selected(replace(row, read=True))
            self.update_title()

    def _show_selected(self, row: NoticeRow | None) -> None:
        self.ack_button.setEnabled(row is not None and row.needs_acknowledgement)
        self.comment_edit.setEnabled(row is not None and row.needs_acknowledgement)
        self.open_run_button.setEnabled(row is not None and row.run is not None)
        if row is None or row.id != self.deliveries.notice_id:
            self.deliveries.show_for(None if row is None else row.id)
        if row is None:
            self.detail.setHtml(
                self.tr("<p style='color:#888'>Select a notice to see its details.</p>")
            )
            return
        colour = {"error": PAUSED_RED, "warning": "#b35900"}.get(row.level, "#333333")
        facts = [escape(kind_words(row)), local_time(row.at)]
        if row.workflow:
            facts.append(f"workflow {escape(row.workflow)}")
        if row.run is not None:
            facts.append(f"run #{row.run}")
        if row.count > 1 and row.kind not in COUNT_IN_TITLE:
            facts.append(f"happened {row.count} times")
        facts.append(escape(notice_state(row)))
        body = escape(row.body).replace("\n", "<br>")
        self.detail.setHtml(
            f"<h3 style='color:{colour}'>{escape(notice_title(row))}</h3>"
            f"<p style='color:#888'>{' · '.join(facts)}</p><p>{body}</p>"
        )

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(f"color: {PAUSED_RED};" if error else "")
        self.message.setText(text)

    # Acting --------------------------------------------------------------

    def acknowledge(self) -> None:
        row = self.selected()
        if row is None or not row.needs_acknowledgement:
            return
        comment = self.comment_edit.text().strip() or None
        try:
            self.services.console.acknowledge_notice(row.id, comment)
        except Exception as exc:  # e.g. a colleague acknowledged it a moment ago
            self.show_message(str(exc), error=True)
            self.refresh()
            return
        self.comment_edit.clear()
        self.refresh()
        self.show_message(self.tr("Acknowledged: {title}.").format(title=row.title))

    def mark_all_read(self) -> None:
        try:
            changed = self.services.console.mark_notices_read()
        except Exception as exc:
            self.show_message(
                self.tr("Could not mark the notices read: {exc}").format(exc=exc), error=True
            )
            return
        self.refresh()
        self.show_message(
            self.tr("Marked {changed} read.").format(changed=changed)
            if changed
            else self.tr("Nothing was unread.")
        )

    def open_run(self) -> None:
        row = self.selected()
        if row is not None and row.run is not None:
            self.services.navigator.show_run(row.run)

    def open_selected(self, _index: QModelIndex | None = None) -> None:
        """Enter or a double click: the inbox for waiting writes, the workflow for a
        pause, else the run."""
        row = self.selected()
        if row is None:
            return
        navigator = self.services.navigator
        if row.kind in INBOX_KINDS:
            navigator.show_page(nav.INBOX)
        elif row.kind == "auto_paused" and row.workflow:
            navigator.show_workflow(row.workflow)
        elif row.run is not None:
            navigator.show_run(row.run)
