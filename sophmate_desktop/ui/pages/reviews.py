"""The Reviews page: reviews due and overdue with the reason, the escalated workflows
with why (production data, customer-facing output, repeated failures, no owner), and
the runs that wait for a review before a workflow can be promoted. "Review..."
(Enter) records a review of the selected row's workflow."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.console.review_pages import UnreviewedRunsRow
from sophmate_desktop.console.workflow_rules import Escalation, ReviewDueRow
from sophmate_desktop.domain.errors import SophmateError
from sophmate_desktop.domain.events import Event
from sophmate_desktop.domain.names import EventKind
from sophmate_desktop.store.rows import ReviewRow
from sophmate_desktop.ui.background_read import BackgroundRead
from sophmate_desktop.ui.bridge import BatchedEvents
from sophmate_desktop.ui.debounce import Debouncer
from sophmate_desktop.ui.models.base import ID_ROLE, Column, LazyTableModel
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.review_dialog import ReviewDialog, kind_label, promotion_status
from sophmate_desktop.ui.widgets.tables import select_id, selected_data, setup_rows
from sophmate_desktop.ui.widgets.workflow_switch import WorkflowSwitchControl

OVERDUE = QColor("#c62828")
_PREFIXES = ("review.", "workflow.", "run.", "connection.")
_EXACT = {EventKind.RUNS_CREATED, EventKind.DB_CHANGED, EventKind.NOTIFICATION}


def _minute(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def _overdue_colour(row: ReviewDueRow) -> QColor | None:
    return OVERDUE if row.overdue else None


DUE_COLUMNS = [
    Column(
        QT_TRANSLATE_NOOP("sophmate", "Workflow"),
        lambda r: r.workflow,
        "workflow",
        foreground=_overdue_colour,
    ),
    Column(
        QT_TRANSLATE_NOOP("sophmate", "Review"),
        lambda r: kind_label(r.kind),
        "kind",
        foreground=_overdue_colour,
    ),
    Column(
        QT_TRANSLATE_NOOP("sophmate", "Due since (UTC)"),
        lambda r: _minute(r.due_since),
        "due",
        foreground=_overdue_colour,
    ),
    Column(
        QT_TRANSLATE_NOOP("sophmate", "Owner"),
        lambda r: r.owner or "— none —",
        "owner",
        foreground=_overdue_colour,
    ),
    Column(
        QT_TRANSLATE_NOOP("sophmate", "Stage"),
        lambda r: r.stage.replace("_", " "),
        "stage",
        foreground=_overdue_colour,
    ),
    Column(
        QT_TRANSLATE_NOOP("sophmate", "Reason"),
        lambda r: r.reason,
        None,
        tooltip=lambda r: r.reason,
        foreground=_overdue_colour,
    ),
]
DUE_SORT_COLUMN = 2
ESCALATION_COLUMNS = [
    Column(QT_TRANSLATE_NOOP("sophmate", "Workflow"), lambda e: e.workflow),
    Column(QT_TRANSLATE_NOOP("sophmate", "Owner"), lambda e: e.owner or "— none —"),
    Column(QT_TRANSLATE_NOOP("sophmate", "Stage"), lambda e: e.stage.replace("_", " ")),
    Column(
        QT_TRANSLATE_NOOP("sophmate", "Why escalated"),
        lambda e: "; ".join(e.reasons),
        tooltip=lambda e: "\n".join(e.reasons),
    ),
]
RUNS_COLUMNS = [
    Column(QT_TRANSLATE_NOOP("sophmate", "Workflow"), lambda r: r.workflow),
    Column(QT_TRANSLATE_NOOP("sophmate", "Stage"), lambda r: r.stage.replace("_", " ")),
    Column(QT_TRANSLATE_NOOP("sophmate", "Succeeded"), lambda r: r.succeeded, align_right=True),
    Column(QT_TRANSLATE_NOOP("sophmate", "Failed"), lambda r: r.failed, align_right=True),
    Column(QT_TRANSLATE_NOOP("sophmate", "Promotion counts"), lambda r: r.progress),
]
_DUE_SORT = {
    "workflow": lambda r: r.workflow,
    "kind": lambda r: r.kind,
    "due": lambda r: r.due_since,
    "owner": lambda r: r.owner or "",
    "stage": lambda r: r.stage,
}


def _slice(rows: Sequence[Any], sorts: dict | None = None):
    """A fetch over a short list the console computed (reviews are per workflow)."""

    def fetch(offset: int, limit: int, key: str | None, descending: bool) -> list[Any]:
        ordered = list(rows)
        if key and sorts and key in sorts:
            ordered.sort(key=sorts[key], reverse=descending)
        return ordered[offset : offset + limit]

    return fetch


class _Table(QTableView):
    """Whole rows, read-only; Enter asks for the review dialog like a double-click."""

    enter_pressed = Signal()

    def __init__(self, name: str, model: LazyTableModel) -> None:
        super().__init__()
        self.setModel(model)
        setup_rows(self, name)
        self.setWordWrap(False)
        self.horizontalHeader().setStretchLastSection(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.enter_pressed.emit()
            return
        super().keyPressEvent(event)


class ReviewsPage(BatchedEvents, QWidget):
    title = QT_TRANSLATE_NOOP("sophmate", "Reviews")
    title_changed = Signal(str)
    refreshed = Signal()

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewsPage")
        self.services = services
        self.dialog: ReviewDialog | None = None
        self._reader = BackgroundRead(
            self, services.tasks, self._read, self._loaded, self._load_failed
        )
        self._debounce = Debouncer(self, self.refresh)

        self._build_tables()
        buttons = self._build_buttons()

        self.escalation_title = QLabel()
        self.escalation_title.setObjectName("escalationsTitle")
        self.escalation_title.setWordWrap(True)
        runs_title = QLabel(
            self.tr(
                "Runs awaiting review before promotion (a review marks them reviewed; "
                "promotion counts reviewed successful runs)"
            )
        )
        runs_title.setWordWrap(True)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.due_table)
        split.addWidget(_titled(self.escalation_title, self.escalation_table))
        split.addWidget(_titled(runs_title, self.runs_table))
        for index, stretch in enumerate((3, 2, 2)):
            split.setStretchFactor(index, stretch)

        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        self._last_view: _Table = self.due_table
        self._update_buttons()
        services.events.listen(self)
        self.refresh()  # the side bar shows "Reviews (N)" before the page is opened

    def _build_tables(self) -> None:
        self.due_model = LazyTableModel(DUE_COLUMNS, _slice([]), page_size=500, row_id=_due_id)
        self.due_table = _Table("reviewsTable", self.due_model)
        self.due_table.horizontalHeader().setSortIndicator(
            DUE_SORT_COLUMN, Qt.SortOrder.AscendingOrder
        )
        self.due_table.setSortingEnabled(True)
        self.escalation_model = LazyTableModel(
            ESCALATION_COLUMNS, _slice([]), page_size=500, row_id=lambda e: e.workflow
        )
        self.escalation_table = _Table("reviewEscalationsTable", self.escalation_model)
        self.runs_model = LazyTableModel(RUNS_COLUMNS, _slice([]), page_size=500)
        self.runs_table = _Table("runsAwaitingReviewTable", self.runs_model)
        self.tables = (self.due_table, self.escalation_table, self.runs_table)
        for view in self.tables:
            view.doubleClicked.connect(lambda _i, v=view: self.review_selected(v))
            view.selectionModel().selectionChanged.connect(
                lambda *_a, v=view: self._selection_changed(v)
            )
            view.enter_pressed.connect(lambda v=view: self.review_selected(v))

    def _build_buttons(self) -> QHBoxLayout:
        self.summary = QLabel("")
        self.summary.setObjectName("reviewsSummary")
        self.review_button = QPushButton(translate("sophmate", "&Review..."))
        self.review_button.setObjectName("reviewButton")
        self.review_button.setToolTip(
            translate("sophmate", "Record a review of the selected workflow (Enter)")
        )
        self.review_button.clicked.connect(lambda: self.review_selected())
        self.open_button = QPushButton(translate("sophmate", "Open &workflow"))
        self.open_button.setObjectName("openWorkflowButton")
        self.open_button.clicked.connect(self.open_selected_workflow)
        # The selected workflow's own kill switch: pause it while reviewing, or resume it.
        self.pause_button = QPushButton(translate("sophmate", "Pa&use / resume..."))
        self.pause_button.setObjectName("reviewPauseButton")
        self.pause_button.setToolTip(
            translate("sophmate", "Pause or resume the selected workflow (asks a reason)")
        )
        self.pause_button.clicked.connect(self.toggle_pause_selected)
        self.workflow_switch = WorkflowSwitchControl(
            self.services.console, self.services.tasks, self
        )
        self.workflow_switch.said.connect(lambda text, _tone: self.status.setText(text))
        self.workflow_switch.changed.connect(self.refresh)
        self.status = QLabel("")
        self.status.setObjectName("reviewStatus")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.review_button)
        return buttons

    # Loading ------------------------------------------------------------------

    def refresh(self) -> None:
        self._reader.request()

    def _read(self) -> tuple[list[ReviewDueRow], list[Escalation], list[UnreviewedRunsRow]]:
        console = self.services.console
        return console.reviews_due(), console.escalations(), console.runs_awaiting_review()

    def _loaded(
        self, result: tuple[list[ReviewDueRow], list[Escalation], list[UnreviewedRunsRow]]
    ) -> None:
        due, escalated, runs = result
        selected = [selected_data(view, ID_ROLE) for view in self.tables]
        self.due_model.set_fetch(_slice(due, _DUE_SORT))
        self.escalation_model.set_fetch(_slice(escalated))
        self.runs_model.set_fetch(_slice(runs))
        for view, row_id in zip(self.tables, selected, strict=True):
            if row_id is not None:
                select_id(view, row_id)
        if self.selected_row() is None and self.due_model.rowCount():
            self.due_table.selectRow(0)  # Enter reviews the most pressing one
        for view in self.tables:
            view.resizeColumnsToContents()
        overdue = sum(r.overdue for r in due)
        n = len(due)
        summary = self.tr("%n review due", "", n) if n == 1 else self.tr("%n reviews due", "", n)
        if overdue:
            summary += self.tr(", {overdue} overdue").format(overdue=overdue)
        self.summary.setText(summary)
        self.escalation_title.setText(
            self.tr(
                "Escalated workflows ({n}): writing production data, sending customer-facing "
                "output, repeated failures, no owner, paused, review overdue"
            ).format(n=len(escalated))
        )
        title = translate("sophmate", self.title)
        self.title_changed.emit(f"{title} ({len(due)})" if due else title)
        self._update_buttons()
        self.refreshed.emit()

    def _load_failed(self, error: BaseException) -> None:
        self.status.setText(self.tr("Could not read the reviews: {error}").format(error=error))

    def _on_event(self, event: Event) -> None:
        kind = event.kind
        if kind in _EXACT or kind.startswith(_PREFIXES):
            self._debounce.poke()

    # Selection ------------------------------------------------------------------

    def selected_row(self, view: QTableView | None = None) -> Any:
        view = view or self._last_view
        return selected_data(view)

    def _selection_changed(self, view: QTableView) -> None:
        if view.selectionModel().hasSelection():
            self._last_view = view
            for other in self.tables:  # one selection at a time: Review... acts on it
                if other is not view:
                    other.clearSelection()
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.selected_row() is not None
        self.review_button.setEnabled(has)
        self.open_button.setEnabled(has)
        self.pause_button.setEnabled(has)

    # Actions ----------------------------------------------------------------------

    def review_selected(self, view: QTableView | None = None) -> ReviewDialog | None:
        """Open the review dialog for the selected row (window-modal, not blocking)."""
        if view is not None:
            self._last_view = view
        row = self.selected_row()
        if row is None:
            return None
        if isinstance(row, ReviewDueRow):
            return self.open_review(row.workflow, kind=row.kind, reason=row.reason)
        return self.open_review(row.workflow)

    def open_review(
        self, workflow: str, *, kind: str | None = None, reason: str | None = None
    ) -> ReviewDialog | None:
        try:
            dialog = ReviewDialog(
                self.services.console, workflow, kind=kind, reason=reason, parent=self
            )
        except SophmateError as exc:  # e.g. the workflow was deleted meanwhile
            self.status.setText(str(exc))
            return None
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.recorded.connect(self._recorded)
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _recorded(self, review: ReviewRow) -> None:
        summary = self.services.console.review_summary(review.workflow)
        self.status.setText(
            self.tr("Review of {workflow} recorded ({kind}). Promotion: {promotion}.").format(
                workflow=review.workflow,
                kind=kind_label(review.kind),
                promotion=promotion_status(summary),
            )
        )
        self.refresh()

    def toggle_pause_selected(self) -> None:
        row = self.selected_row()
        if row is not None:
            self.workflow_switch.toggle(row.workflow)

    def open_selected_workflow(self) -> None:
        row = self.selected_row()
        if row is not None:
            self.services.navigator.show_workflow(row.workflow)


def _due_id(row: ReviewDueRow) -> tuple[str, str]:
    return row.id


def _titled(title: QLabel, table: QTableView) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 6, 0, 0)
    layout.addWidget(title)
    layout.addWidget(table)
    return box
