"""The Audit page: the hash-chained trail, filtered in SQL, verified and exported.

The table pages by id (keyset: each page continues after the last id shown), so a
million events open as fast as a hundred: no COUNT(*), first page only. Verify and
Export run in the background; their results are said in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QItemSelection, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.domain.events import Event
from sophmate_desktop.store.rows import AuditRow
from sophmate_desktop.ui.bridge import BatchedEvents
from sophmate_desktop.ui.debounce import Debouncer
from sophmate_desktop.ui.models.base import Column, LazyTableModel
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.audit_details import AuditDetails
from sophmate_desktop.ui.widgets.audit_filters import AuditFilterBar, AuditFilters
from sophmate_desktop.ui.widgets.run_columns import when
from sophmate_desktop.ui.widgets.tables import history_table, select_id, selected_data

PAGE_SIZE = 200
EXPORT_FILTERS = {"JSON Lines (*.jsonl)": "jsonl", "CSV (*.csv)": "csv"}


def audit_columns() -> list[Column]:
    def flat(text: str | None) -> str:
        return " ".join((text or "").split())

    return [
        Column(QT_TRANSLATE_NOOP("sophmate", "#"), lambda e: e.id, "id", align_right=True),
        Column(QT_TRANSLATE_NOOP("sophmate", "At (UTC)"), lambda e: when(e.at), "id"),
        Column(QT_TRANSLATE_NOOP("sophmate", "Actor"), lambda e: e.actor),
        Column(QT_TRANSLATE_NOOP("sophmate", "Action"), lambda e: e.action),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Subject"),
            lambda e: e.subject,
            tooltip=lambda e: e.subject,
        ),
        Column(QT_TRANSLATE_NOOP("sophmate", "Category"), lambda e: e.category or ""),
        Column(QT_TRANSLATE_NOOP("sophmate", "Workflow"), lambda e: e.workflow or ""),
        Column(QT_TRANSLATE_NOOP("sophmate", "Run"), lambda e: e.run or "", align_right=True),
        Column(
            QT_TRANSLATE_NOOP("sophmate", "Reason"),
            lambda e: flat(e.reason),
            tooltip=lambda e: e.reason or "",
        ),
    ]


class KeysetFetch:
    """A fetch for LazyTableModel that continues after the last id it returned, so
    the database seeks on the primary key instead of skipping `offset` rows."""

    def __init__(self, console: Any, filters: AuditFilters) -> None:
        self._console = console
        self._filters = filters.as_kwargs()
        self._last_id: dict[tuple[int, bool], int] = {}

    def __call__(
        self, offset: int, limit: int, sort_key: str | None, descending: bool
    ) -> Sequence[AuditRow]:
        if offset == 0:
            self._last_id.clear()
        after = self._last_id.get((offset, descending))
        rows = self._console.audit_page(
            offset, limit, sort_key, descending, after=after, **self._filters
        )
        if rows:
            self._last_id[(offset + len(rows), descending)] = rows[-1].id
        return rows


class AuditPage(BatchedEvents, QWidget):
    title = QT_TRANSLATE_NOOP("sophmate", "Audit")
    verify_finished = Signal(bool)  # the result is shown
    export_finished = Signal(bool)

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.console = services.console
        self._filters = AuditFilters()
        self.export_dialog: QFileDialog | None = None

        self.filter_bar = AuditFilterBar()
        self.filter_bar.filters_changed.connect(self._filters_changed)
        self.verify_button = QPushButton(translate("sophmate", "&Verify"))
        self.verify_button.setObjectName("verifyButton")
        self.verify_button.setToolTip(
            translate("sophmate", "Walk the hash chain and report the first broken event")
        )
        self.verify_button.clicked.connect(self.verify)
        self.verify_result = QLabel()
        self.verify_result.setObjectName("verifyResult")
        self.verify_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_button = QPushButton(translate("sophmate", "&Export…"))
        self.export_button.setObjectName("exportButton")
        self.export_button.setToolTip(
            translate("sophmate", "Save the events that match the filters as JSON Lines or CSV")
        )
        self.export_button.clicked.connect(self.choose_export_file)
        self.export_result = QLabel()
        self.export_result.setObjectName("exportResult")
        self.export_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.newer = QLabel(translate("sophmate", "Newer events arrived: press F5 to show them."))
        self.newer.setObjectName("auditNewer")
        self.newer.hide()
        actions = QHBoxLayout()
        for widget in (self.verify_button, self.verify_result):
            actions.addWidget(widget)
        actions.addStretch(1)
        for widget in (self.newer, self.export_result, self.export_button):
            actions.addWidget(widget)

        self.model = LazyTableModel(
            audit_columns(),
            KeysetFetch(self.console, self._filters),
            page_size=PAGE_SIZE,
            parent=self,
        )
        self.table = history_table("auditTable", self.model, (60, 140, 70, 150, 110, 80, 110, 45))
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.activated.connect(lambda _index: self.details.open_run())

        self.details = AuditDetails(services)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setSizes([1000, 260])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter_bar)
        layout.addLayout(actions)
        layout.addWidget(splitter, 1)

        reload = QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self)
        reload.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        reload.activated.connect(self.refresh)
        self._events_later = Debouncer(self, self._events_arrived)
        services.events.listen(self)

    # Reading ---------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the first page (keeping the selected event) and the filter choices."""
        self._events_later.cancel()
        self.newer.hide()
        self.filter_bar.set_choices(self.console.history_choices())
        selected = self.selected_event()
        self.model.set_fetch(KeysetFetch(self.console, self._filters))
        if selected is not None:
            self.select_event(selected.id)

    def _filters_changed(self, filters: AuditFilters) -> None:
        self._filters = filters
        self.model.set_fetch(KeysetFetch(self.console, filters))
        self.details.show_event(None)

    def _on_event(self, event: Event) -> None:
        # Every state change is audited, so any event may mean new rows.
        if self.isVisible():
            self._events_later.poke()

    def _events_arrived(self) -> None:
        at_top = self.table.verticalScrollBar().value() == 0
        newest_first = self.table.horizontalHeader().sortIndicatorOrder() == (
            Qt.SortOrder.DescendingOrder
        )
        if at_top and newest_first:
            self.refresh()
        else:
            self.newer.show()  # do not move the rows someone is reading

    # Selection ---------------------------------------------------------------

    def selected_event(self) -> AuditRow | None:
        return selected_data(self.table)

    def select_event(self, event_id: int) -> bool:
        return select_id(self.table, event_id)

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self.details.show_event(self.selected_event())

    # Verify ----------------------------------------------------------------

    def verify(self) -> None:
        if not self.verify_button.isEnabled():
            return
        self.verify_button.setEnabled(False)
        self._say(self.verify_result, self.tr("Verifying the chain…"), None)
        self.services.tasks.run(self.console.verify_audit, self._verified, self._verify_failed)

    def _verified(self, result: Any) -> None:
        self.verify_button.setEnabled(True)
        if result.ok:
            text = self.tr("Chain intact: {n} events").format(n=f"{result.checked:,}")
            if result.checkpoint:
                text += self.tr(", agrees with the checkpoint of {at}").format(
                    at=result.checkpoint["at"]
                )
            self._say(self.verify_result, text, "ok")
        else:
            found = "\n".join(f"{f.kind}: {f.text}" for f in result.findings)
            self._say(
                self.verify_result, self.tr("NOT intact:\n{found}").format(found=found), "failed"
            )
        self.verify_result.setToolTip("\n".join(result.notes))
        self.verify_finished.emit(result.ok)

    def _verify_failed(self, exc: BaseException) -> None:
        self.verify_button.setEnabled(True)
        self._say(self.verify_result, self.tr("Could not verify: {exc}").format(exc=exc), "failed")
        self.verify_finished.emit(False)

    # Export ----------------------------------------------------------------

    def choose_export_file(self) -> None:
        """Ask where to save (a non-blocking dialog); the export starts on accept."""
        dialog = QFileDialog(self, self.tr("Export audit events"))
        dialog.setObjectName("auditExportDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.setNameFilters(list(EXPORT_FILTERS))
        dialog.setDefaultSuffix("jsonl")
        dialog.filterSelected.connect(
            lambda name: dialog.setDefaultSuffix(EXPORT_FILTERS.get(name, "jsonl"))
        )
        prefs = self.services.preferences
        dialog.setDirectory(prefs.last_folder("export"))
        dialog.selectFile("audit-export.jsonl")
        dialog.fileSelected.connect(lambda path: prefs.remember_file("export", path))
        dialog.fileSelected.connect(lambda path: self.export_to(path, dialog.selectedNameFilter()))
        dialog.finished.connect(dialog.deleteLater)
        self.export_dialog = dialog
        dialog.open()

    def export_to(self, path: str, name_filter: str | None = None) -> None:
        fmt = "csv" if path.lower().endswith(".csv") else "jsonl"
        if name_filter in EXPORT_FILTERS and not path.lower().endswith((".csv", ".jsonl")):
            fmt = EXPORT_FILTERS[name_filter]
        filters = self._filters.as_kwargs()
        self.export_button.setEnabled(False)
        self._say(
            self.export_result, self.tr("Exporting to {name}…").format(name=Path(path).name), None
        )
        self.services.tasks.run(
            lambda: self.console.export_audit_file(path, fmt, **filters),
            lambda count: self._exported(path, count),
            self._export_failed,
        )

    def _exported(self, path: str, count: int) -> None:
        self.export_button.setEnabled(True)
        self._say(
            self.export_result,
            self.tr("Exported {count:,} events to {path}").format(count=count, path=path),
            "ok",
        )
        self.export_finished.emit(True)

    def _export_failed(self, exc: BaseException) -> None:
        self.export_button.setEnabled(True)
        self._say(self.export_result, self.tr("Export failed: {exc}").format(exc=exc), "failed")
        self.export_finished.emit(False)

    @staticmethod
    def _say(label: QLabel, text: str, badge: str | None) -> None:
        label.setText(text)
        label.setProperty("badge", badge)
        label.style().unpolish(label)
        label.style().polish(label)
