"""The Workflows page: every workflow with its stage, switches, owner, health,
escalations and review; the editor below the table; import, export, enable,
disable, promote, "Dry run on a file..." and "Last run" (its run page, with the
plain-language account).

Refusals (checklist, graduation, a file that does not validate) are shown in place,
in the message line above the table, in the words the console gives.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt
from PySide6.QtWidgets import (
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.console.workflow_pages import DryRunResult, WorkflowOverview
from sophmate_desktop.domain.errors import NotFound
from sophmate_desktop.domain.events import Event
from sophmate_desktop.domain.names import EventKind
from sophmate_desktop.domain.workflow import WorkflowDefinition
from sophmate_desktop.domain.workflow_file import WorkflowFileError, definition_to_dict
from sophmate_desktop.store.rows import WorkflowRow
from sophmate_desktop.ui.bridge import BatchedEvents
from sophmate_desktop.ui.debounce import Debouncer
from sophmate_desktop.ui.models.base import LazyTableModel
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.page_message import PageMessage
from sophmate_desktop.ui.widgets.tables import row_table, select_id, selected_data
from sophmate_desktop.ui.widgets.wf_actions import action_button, build_actions
from sophmate_desktop.ui.widgets.wf_columns import WORKFLOW_COLUMNS, stage_text
from sophmate_desktop.ui.widgets.wf_dialogs import ConfirmDialog, file_dialog, input_file_dialog
from sophmate_desktop.ui.widgets.wf_document import new_workflow_document
from sophmate_desktop.ui.widgets.wf_dryrun import DryRunner, DryRunPanel
from sophmate_desktop.ui.widgets.wf_editor import WorkflowEditor
from sophmate_desktop.ui.widgets.wf_lifecycle import (
    WorkflowLifecycle,
    complete_unsaved_text,
    explain,
    save_note,
    unsaved_enable_text,
)
from sophmate_desktop.ui.widgets.wf_messages import (
    export_error_text,
    exported_text,
    import_error_text,
    imported_text,
    invalid_file_text,
    not_imported_note,
)
from sophmate_desktop.ui.widgets.wf_preview import ChangePreviewer
from sophmate_desktop.ui.widgets.wf_schedule import ScheduleStrip
from sophmate_desktop.ui.widgets.workflow_switch import WorkflowSwitchControl
from sophmate_desktop.ui.widgets.wrap_row import wrapping

DRY_RUN_HEIGHT = 440  # the table and the dry-run panel, while a dry run is shown
COLUMN_WIDTHS = (160, 100, 85, 65, 115, 120, 150, 160)
REFRESH_ON = ("workflow.", "run.", "runs.", "review.", "category.", "write.", EventKind.DB_CHANGED)
EMPTY_HINT = QT_TRANSLATE_NOOP(
    "sophmate",
    "No workflows yet: create one with New (Ctrl+N) or import a workflow file with "
    "Import… (Ctrl+O).",
)


class WorkflowsPage(BatchedEvents, QWidget):
    title = QT_TRANSLATE_NOOP("sophmate", "Workflows")

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.prefs = services.preferences
        self.console = services.console
        self._search = ""
        self._missed = False  # an event came while hidden: re-read when shown
        build_actions(self)
        toolbar = self._build_toolbar()
        self.message = PageMessage("workflowMessage")
        self._build_table()

        self.dry_run_panel = DryRunPanel()
        self.dry_run_panel.hide()
        self.dry_run_panel.open_run.connect(services.navigator.show_run)
        self.dry_runner = DryRunner(services, self)
        self.dry_runner.finished.connect(self._dry_run_finished)
        self._dry_run_name = ""
        self.lifecycle = WorkflowLifecycle(self.console, self)
        self.lifecycle.said.connect(self._lifecycle_said)
        self.lifecycle.changed.connect(self.refresh)
        self.switch = WorkflowSwitchControl(self.console, services.tasks, self)
        self.switch.said.connect(self.say)
        self.switch.changed.connect(self.refresh)
        self.editor = WorkflowEditor()
        self.editor.save_requested.connect(self._save)
        self.editor.validated.connect(self._edits_checked)
        self.addAction(self.editor.save_action)
        self.previewer = ChangePreviewer(self.console, services.tasks, self.editor, self)
        self.schedule = ScheduleStrip(services, self)
        self.schedule.said.connect(self.say)

        self._lay_out(toolbar)

        self._refresh_later = Debouncer(self, self.refresh)
        services.events.listen(self)
        self._update_actions()

    def _build_toolbar(self) -> QWidget:
        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("workflowSearch")
        self.search_edit.setPlaceholderText(
            translate("sophmate", "Filter by name, category or owner (Ctrl+F)")
        )
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMinimumWidth(200)
        self.search_edit.textChanged.connect(self._search_changed)
        toolbar = QWidget()
        row = wrapping(toolbar)
        self.buttons: dict[str, QPushButton] = {}
        for action, name, text in (
            (self.new_action, "newButton", self.tr("&New")),
            (self.import_action, "importButton", self.tr("&Import…")),
            (self.export_action, "exportButton", self.tr("E&xport…")),
            (self.enable_action, "enableButton", self.tr("&Enable")),
            (self.disable_action, "disableButton", self.tr("Disa&ble…")),
            (self.pause_action, "pauseButton", self.tr("Pa&use…")),
            (self.promote_action, "promoteButton", self.tr("&Promote…")),
            (self.dry_run_action, "dryRunButton", self.tr("&Dry run on a file…")),
            (self.last_run_action, "lastRunButton", self.tr("&Last run")),
        ):
            self.buttons[name] = action_button(action, name, text)
            row.addWidget(self.buttons[name])
        row.addWidget(self.search_edit)
        return toolbar

    def _build_table(self) -> None:
        self.model = LazyTableModel(WORKFLOW_COLUMNS, self._fetch, row_id=lambda r: r.name)
        self.table = row_table("workflowTable", self.model, widths=COLUMN_WIDTHS)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.activated.connect(lambda index: self.open_editor(self.model.row_at(index.row())))
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.model.modelReset.connect(self._update_actions)

    def _lay_out(self, toolbar: QWidget) -> None:
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.table)
        top.addWidget(self.dry_run_panel)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.editor)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([260, 520])
        layout = QVBoxLayout(self)
        layout.addWidget(toolbar)
        layout.addWidget(self.message)
        layout.addWidget(self.schedule)
        layout.addWidget(self.splitter, 1)

    # Building ----------------------------------------------------------------

    # Table -------------------------------------------------------------------

    def _fetch(self, offset: int, limit: int, sort_key: str | None, descending: bool):
        return self.console.workflow_overview_page(
            offset, limit, sort_key, descending, search=self._search or None
        )

    def _search_changed(self, text: str) -> None:
        self._search = text.strip()
        self.model.set_fetch(self._fetch)

    def _focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    def selected(self) -> WorkflowOverview | None:
        return selected_data(self.table)

    def refresh(self) -> None:
        """Re-read the table (keeping the selection) when the page is shown or data changed."""
        self._refresh_later.cancel()
        current = self.selected()
        self.model.reload()
        if current is not None:
            self._select(current.name)
        empty = self.model.rowCount() == 0 and not self._search
        if empty and self.message.isHidden():
            self.say(translate("sophmate", EMPTY_HINT), "info")
        elif not empty and self.message.text() == translate("sophmate", EMPTY_HINT):
            self.say("")

    def _on_event(self, event: Event) -> None:
        if event.kind.startswith(REFRESH_ON):  # hidden: re-read once shown (showEvent)
            self._missed = not self.isVisible()
            if not self._missed:
                self._refresh_later.poke()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._missed:
            self._missed = False
            self._refresh_later.poke()

    def _select(self, name: str) -> bool:
        return select_id(self.table, name, load_more=True)

    def _selection_changed(self) -> None:
        self._update_actions()
        row = self.selected()
        self.message.drop_unless_about(row.name if row is not None else None)
        if row is None or self.editor.dirty:
            return
        if row.name != self.editor.name or row.revision != self.editor.revision:
            self._load(row.name)

    def _update_actions(self) -> None:
        row = self.selected()
        self.schedule.show_for(row.name if row is not None else None)
        self.export_action.setEnabled(row is not None)
        self.dry_run_action.setEnabled(row is not None and not self.dry_runner.busy)
        self.last_run_action.setEnabled(row is not None)
        self.enable_action.setEnabled(row is not None and not row.enabled)
        self.disable_action.setEnabled(row is not None and row.enabled)
        self.promote_action.setEnabled(row is not None and row.next_stage is not None)
        self.pause_action.setEnabled(row is not None)
        self.buttons["pauseButton"].setText(
            self.tr("Res&ume…") if row and row.paused else self.tr("Pa&use…")
        )
        if row is not None and row.next_stage is not None:
            tip = self.tr("Promote to {stage} (Ctrl+Shift+U)")
            self.buttons["promoteButton"].setToolTip(tip.format(stage=stage_text(row.next_stage)))

    # Showing a workflow in the editor ------------------------------------------

    def show_workflow(self, name: str) -> None:
        """Select `name` in the table and open it in the editor."""
        if self.search_edit.text():
            self.search_edit.clear()
        if not self._select(name):
            self.say(self.tr("There is no workflow named {name}.").format(name=name), "error")
            return
        row = self.selected()
        if row is not None:
            self.open_editor(row)

    def open_editor(self, row: WorkflowOverview) -> None:
        if self.editor.dirty and self.editor.name != row.name:
            self._confirm_discard(lambda: self._load(row.name))
        elif self.editor.name != row.name or self.editor.revision != row.revision:
            self._load(row.name)
        self.editor.form.fields["name"].setFocus()

    def _load(self, name: str) -> None:
        try:
            revision = self.console.get_workflow(name).revision
            doc = definition_to_dict(self.console.get_definition(name))
        except NotFound as exc:
            self.say(str(exc), "error")
            return
        self.editor.load(name, revision, doc)

    def _confirm_discard(self, then) -> None:
        what = self.editor.name or self.tr("the new workflow")
        dialog = ConfirmDialog(
            self.tr("Unsaved changes"),
            self.tr("Your changes to {what} are not saved. Discard them?").format(what=what),
            self.tr("Discard changes"),
            self,
        )
        dialog.accepted.connect(then)
        dialog.open()

    def new_workflow(self) -> None:
        def start() -> None:
            self.table.clearSelection()
            self.editor.start_new(new_workflow_document(self.console.actor))
            self.editor.form.fields["name"].setFocus()

        if self.editor.dirty:
            self._confirm_discard(start)
        else:
            start()

    # Saving ------------------------------------------------------------------

    def _save(self, defn: WorkflowDefinition) -> None:
        old_name, base_revision = self.editor.name, self.editor.revision

        def work() -> tuple[WorkflowRow | None, WorkflowRow]:
            try:
                before = self.console.get_workflow(defn.name)
            except NotFound:
                before = None
            return before, self.console.save_definition(defn)

        def done(result: tuple[WorkflowRow | None, WorkflowRow]) -> None:
            before, row = result
            note = save_note(before, row, old_name, base_revision)
            self.editor.saved(row.name, row.revision, note)
            self.say(note, "ok")
            self.refresh()
            self._select(row.name)

        self.services.tasks.run(work, done, lambda exc: self.editor.save_failed(explain(exc)))

    # Import and export -----------------------------------------------------------

    def import_workflow(self) -> None:
        dialog = file_dialog(self, self.tr("Import a workflow file"), self.prefs, save=False)
        dialog.fileSelected.connect(self._import_file)
        dialog.open()

    def _import_file(self, path: str) -> None:
        self.import_action.setEnabled(False)
        self.say(self.tr("Importing {name}…").format(name=Path(path).name), "info")

        def done(row: WorkflowRow) -> None:
            self.import_action.setEnabled(True)
            self.say(imported_text(row), "ok")
            self.refresh()
            self.show_workflow(row.name)

        def failed(exc: BaseException) -> None:
            self.import_action.setEnabled(True)
            if not isinstance(exc, WorkflowFileError):
                self.say(import_error_text(path, explain(exc)), "error")
                return
            self.say(invalid_file_text(path, exc.errors), "error")
            if not self.editor.dirty:
                try:
                    text = Path(path).read_text(encoding="utf-8-sig")
                except (OSError, UnicodeError):
                    return
                self.table.clearSelection()
                self.editor.start_from_text(text, not_imported_note(path))

        self.services.tasks.run(lambda: self.console.import_workflow(Path(path)), done, failed)

    def export_workflow(self) -> None:
        row = self.selected()
        if row is None:
            return
        name = f"{row.name}.yaml"
        title = self.tr("Export {name}").format(name=row.name)
        dialog = file_dialog(self, title, self.prefs, save=True, default_name=name)
        dialog.fileSelected.connect(lambda path: self._export_to(row.name, path))
        dialog.open()

    def _export_to(self, name: str, path: str) -> None:
        def work() -> None:
            Path(path).write_text(self.console.export_workflow(name), encoding="utf-8")

        self.services.tasks.run(
            work,
            lambda _: self.say(exported_text(name, path), "ok"),
            lambda exc: self.say(export_error_text(name, explain(exc)), "error"),
        )

    # Enable, disable, promote ---------------------------------------------------

    def enable_workflow(self) -> None:
        if (row := self.selected()) is None:
            return
        if self.editor.dirty and self.editor.name == row.name:
            # Enable judges the saved revision: the form's edits would not count.
            self.message.say(unsaved_enable_text(row.name), "error", about=row.name)
            return
        self.lifecycle.enable(row)

    def _lifecycle_said(self, text: str, tone: str) -> None:
        row = self.selected()
        about = row.name if tone == "error" and row is not None else None
        self.message.say(text, tone, about)

    def _edits_checked(self, _errors) -> None:
        """A refusal the edits have answered gives way to what is true now."""
        name = self.editor.name
        if self.message.about == name and name is not None and self.editor.missing == []:
            self.message.say(complete_unsaved_text(name) if self.editor.dirty else "")

    def disable_workflow(self) -> None:
        if (row := self.selected()) is not None:
            self.lifecycle.disable(row)

    def toggle_pause(self) -> None:
        if (row := self.selected()) is not None:
            self.switch.toggle(row.name)

    def promote_workflow(self) -> None:
        if (row := self.selected()) is not None:
            self.lifecycle.promote(row)

    def open_last_run(self) -> None:
        if (row := self.selected()) is None:
            return
        try:
            run_id = self.console.last_run_id(row.name)
        except NotFound as exc:
            self.say(str(exc), "error")
            return
        if run_id is None:
            self.say(self.tr("{name} has not run yet.").format(name=row.name), "info")
            return
        self.services.navigator.show_run(run_id)

    # Dry run -------------------------------------------------------------------

    def dry_run(self) -> None:
        row = self.selected()
        if row is None:
            return
        title = self.tr("Dry run of {name}: choose the trigger file").format(name=row.name)
        dialog = input_file_dialog(self, title, self.prefs)
        dialog.fileSelected.connect(lambda path: self.start_dry_run(row.name, path))
        dialog.open()

    def start_dry_run(self, name: str, path: str) -> None:
        """Plan a run of `name` on `path` (through the running engine, or a temporary one)."""
        self.dry_run_action.setEnabled(False)
        note = ""
        if self.editor.dirty and self.editor.name == name:
            note = self.tr(" It uses the saved revision, not your unsaved changes.")
        self.dry_run_panel.set_busy(name, Path(path).name, note)
        top, bottom = self.splitter.sizes()
        if top < DRY_RUN_HEIGHT < top + bottom:  # room for the planned writes and a preview
            self.splitter.setSizes([DRY_RUN_HEIGHT, top + bottom - DRY_RUN_HEIGHT])
        self._dry_run_name = name
        self.dry_runner.start(name, path)

    def _dry_run_finished(self, result: DryRunResult | None, error: BaseException | None) -> None:
        self.dry_runner.busy = False
        self._update_actions()
        if result is not None:
            self.dry_run_panel.show_result(result)
        else:
            self.dry_run_panel.show_error(self._dry_run_name, explain(error))
        self.refresh()

    # Messages ------------------------------------------------------------------

    def say(self, text: str, tone: str = "info") -> None:
        self.message.say(text, tone)
