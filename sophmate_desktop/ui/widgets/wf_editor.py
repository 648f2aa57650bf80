"""The workflow editor: a Form tab and a YAML tab kept in sync, live validation at the
field, and the production checklist beside them.

The editor holds the workflow as a raw document. Switching to the YAML tab writes the
form's document out as YAML (only if the form changed, so comments typed in the YAML
survive a look at the form); switching to the Form tab reads the YAML back when it
parses. Edits are validated 300 ms after the last key press. The editor does not save
by itself: Save emits `save_requested(definition)` and the page calls the console,
then `saved()` or `save_failed()`. Preview change emits `preview_requested(definition)`
for the unsaved definition of a saved workflow (wf_preview.py answers it).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.domain.workflow_file import FieldError
from sophmate_desktop.ui.debounce import Debouncer
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.wf_checklist import ChecklistView
from sophmate_desktop.ui.widgets.wf_document import (
    Checked,
    check_document,
    check_text,
    checklist_missing,
    checklist_warnings,
    describe_error,
    document_to_yaml,
)
from sophmate_desktop.ui.widgets.wf_form import ERROR_STYLE, WorkflowForm
from sophmate_desktop.ui.widgets.wf_roundtrip import merge_into_yaml
from sophmate_desktop.ui.widgets.wf_yaml import YamlView

VALIDATE_MS = 300  # after the last key press
FORM_TAB, YAML_TAB = 0, 1
_TONES = {"error": ERROR_STYLE, "ok": "color: #2e7d32;", "info": ""}


class WorkflowEditor(QWidget):
    validated = Signal(object)  # tuple[FieldError, ...] after each validation
    save_requested = Signal(object)  # WorkflowDefinition
    preview_requested = Signal(object)  # WorkflowDefinition, edited and unsaved
    dirty_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("workflowEditor")
        self._name: str | None = None  # the saved workflow shown, None for a new one
        self._revision: int | None = None
        self._saved_doc: dict[str, Any] | None = None
        self._doc: dict[str, Any] = {}
        self._form_ahead = False  # the form changed since the YAML text was written
        self._yaml_ahead = False
        self._dirty = False
        self._missing: list[str] | None = None
        self.last_check = Checked(None, (), None)

        header = self._build_header()

        self.form = WorkflowForm()
        self.yaml = YamlView()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("editorTabs")
        self.tabs.addTab(self.form, translate("sophmate", "Fo&rm"))
        self.tabs.addTab(self.yaml, translate("sophmate", "&YAML"))
        self.status = QLabel()
        self.status.setObjectName("editorStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.checklist = ChecklistView()
        self.checklist.setFixedWidth(230)

        column = QVBoxLayout()
        column.addLayout(header)
        column.addWidget(self.tabs, 1)
        column.addWidget(self.status)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(column, 1)
        layout.addWidget(self.checklist)

        self._validate_later = Debouncer(self, self.validate_now, VALIDATE_MS, restart_on_poke=True)
        self.form.changed.connect(self._form_changed)
        self.yaml.changed.connect(self._yaml_changed)
        self.tabs.currentChanged.connect(self._tab_changed)
        self._set_enabled(False)

    def _build_header(self) -> QHBoxLayout:
        self.title = QLabel(
            translate("sophmate", "Select a workflow, or press Ctrl+N for a new one")
        )
        self.title.setObjectName("editorTitle")
        self.save_action = QAction(translate("sophmate", "&Save"), self)
        self.save_action.setShortcut(QKeySequence.StandardKey.Save)
        self.save_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.save_action.setToolTip(translate("sophmate", "Save a new revision (Ctrl+S)"))
        self.save_action.triggered.connect(self.save)
        self.revert_action = QAction(translate("sophmate", "Re&vert"), self)
        self.revert_action.setToolTip(translate("sophmate", "Throw away unsaved changes"))
        self.revert_action.triggered.connect(self.revert)
        self.save_button = QToolButton()
        self.save_button.setObjectName("saveButton")
        self.save_button.setDefaultAction(self.save_action)
        self.preview_action = QAction(translate("sophmate", "&Preview change"), self)
        self.preview_action.setToolTip(
            self.tr(
                "Replay the last inputs on the saved and the edited definition and show what "
                "the edit changes (nothing is written)"
            )
        )
        self.preview_action.triggered.connect(self.preview)
        self.preview_button = QToolButton()
        self.preview_button.setObjectName("previewChangeButton")
        self.preview_button.setDefaultAction(self.preview_action)
        revert_button = QToolButton()
        revert_button.setObjectName("revertButton")
        revert_button.setDefaultAction(self.revert_action)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.preview_button)
        header.addWidget(revert_button)
        header.addWidget(self.save_button)
        return header

    # What the page asks ----------------------------------------------------

    @property
    def name(self) -> str | None:
        return self._name

    @property
    def revision(self) -> int | None:
        return self._revision

    @property
    def missing(self) -> list[str] | None:
        """The checklist items the edited document misses (None: nothing to judge)."""
        return self._missing

    @property
    def dirty(self) -> bool:
        return self._dirty

    def load(self, name: str, revision: int, doc: dict[str, Any]) -> None:
        """Show a saved workflow (its document as stored)."""
        self._name, self._revision, self._saved_doc = name, revision, doc
        self._show(doc, FORM_TAB)
        self._set_dirty(False)
        self._say("", "info")

    def start_new(self, doc: dict[str, Any]) -> None:
        """A new, unsaved workflow starting from `doc`."""
        self._name = self._revision = self._saved_doc = None
        self._show(doc, FORM_TAB)
        self._set_dirty(True)
        self._say(self.tr("A new workflow: fill it in, then save it (Ctrl+S)."), "info")

    def start_from_text(self, text: str, note: str) -> None:
        """An unsaved workflow from YAML text (a file that could not be imported)."""
        self._name = self._revision = self._saved_doc = None
        self._set_enabled(True)
        self._doc = {}
        self.yaml.set_text(text)
        self._yaml_ahead, self._form_ahead = True, False
        self.tabs.blockSignals(True)
        self.tabs.setCurrentIndex(YAML_TAB)
        self.tabs.blockSignals(False)
        self._set_dirty(True)
        self.validate_now()
        self._say(note, "error")

    def saved(self, name: str, revision: int, note: str = "") -> None:
        self._name, self._revision = name, revision
        self._saved_doc = dict(self._doc)
        self._set_dirty(False)
        self._say(note or self.tr("Saved revision {revision}.").format(revision=revision), "ok")

    def save_failed(self, message: str) -> None:
        self.save_action.setEnabled(True)
        self._say(self.tr("Not saved: {message}").format(message=message), "error")

    def close_workflow(self) -> None:
        self._name = self._revision = self._saved_doc = None
        self._doc = {}
        self.form.set_document({})
        self.form.show_errors([])
        self.yaml.set_text("")
        self.yaml.show_errors([])
        self._set_dirty(False)
        self._set_enabled(False)
        self.checklist.set_missing(None)
        self.title.setText(self.tr("Select a workflow, or press Ctrl+N for a new one"))

    # Editing -----------------------------------------------------------------

    def _show(self, doc: dict[str, Any], tab: int) -> None:
        self._set_enabled(True)
        self._doc = dict(doc)
        self.form.set_document(self._doc)
        self.yaml.set_text(document_to_yaml(self._doc))
        self._form_ahead = self._yaml_ahead = False
        self.tabs.blockSignals(True)
        self.tabs.setCurrentIndex(tab)
        self.tabs.blockSignals(False)
        self.validate_now()

    def _set_enabled(self, enabled: bool) -> None:
        self.tabs.setEnabled(enabled)
        self.save_action.setEnabled(enabled)
        self.revert_action.setEnabled(enabled)
        self.preview_action.setEnabled(enabled and self._name is not None)

    def _form_changed(self) -> None:
        self._form_ahead = True
        self._set_dirty(True)
        self._validate_later.poke()

    def _yaml_changed(self) -> None:
        self._yaml_ahead = True
        self._set_dirty(True)
        self._validate_later.poke()

    def _tab_changed(self, index: int) -> None:
        if index == YAML_TAB and self._form_ahead:
            self._doc, _problems = self.form.document(self._doc)
            # the text as written (comments, block scalars), with the form's changes
            kept = merge_into_yaml(self.yaml.text(), self._doc)
            self.yaml.set_text(kept if kept is not None else document_to_yaml(self._doc))
            self._form_ahead = False
        elif index == FORM_TAB and self._yaml_ahead:
            checked = check_text(self.yaml.text())
            if checked.document is None:
                # The form cannot show text that does not parse: stay, say why.
                self.tabs.blockSignals(True)
                self.tabs.setCurrentIndex(YAML_TAB)
                self.tabs.blockSignals(False)
                first = next((describe_error(e) for e in checked.errors), "")
                self._say(
                    self.tr("Fix the YAML first; the form shows YAML that parses. {first}").format(
                        first=first
                    ),
                    "error",
                )
                self.yaml.show_errors(list(checked.errors))
                return
            self._doc = checked.document
            self.form.set_document(self._doc)
            self._yaml_ahead = False
        self.validate_now()

    def validate_now(self) -> tuple[FieldError, ...]:
        """Validate what the current tab shows; mark the errors; returns them."""
        self._validate_later.cancel()
        if self.tabs.currentIndex() == FORM_TAB:
            self._doc, problems = self.form.document(self._doc)
            checked = check_document(self._doc)
            errors = (*problems, *checked.errors)
            self._missing = checklist_missing(self._doc)
            self.form.show_errors([*errors, *checklist_warnings(self._missing)])
            definition = None if problems else checked.definition
        else:
            checked = check_text(self.yaml.text())
            errors = checked.errors
            self.yaml.show_errors(list(errors))
            if checked.document is not None:
                self._doc = checked.document
                self._missing = checklist_missing(self._doc)
            definition = checked.definition
        self.last_check = Checked(definition, tuple(errors), self._doc)
        self.checklist.set_missing(self._missing)
        if errors:
            count = len(errors)
            self._say(
                self.tr("{problems}: {error}").format(
                    problems=self._problems(count), error=describe_error(errors[0])
                ),
                "error",
            )
        elif self.status.property("tone") == "error" and self._dirty:
            self._say(self.tr("No problems."), "ok")
        self.validated.emit(tuple(errors))
        return tuple(errors)

    def save(self) -> None:
        if not self.tabs.isEnabled():
            return
        errors = self.validate_now()
        if errors or self.last_check.definition is None:
            count = len(errors)
            self._say(
                self.tr("Not saved: fix the {problems} first ({error}).").format(
                    problems=self._problems(count),
                    error=describe_error(errors[0]) if errors else self.tr("nothing to save"),
                ),
                "error",
            )
            return
        self.save_action.setEnabled(False)  # until the page reports back
        self._say(self.tr("Saving…"), "info")
        self.save_requested.emit(self.last_check.definition)

    def preview(self) -> None:
        """Ask for a change preview of what the editor shows (it must validate)."""
        if not self.tabs.isEnabled() or self._name is None:
            return
        errors = self.validate_now()
        if errors or self.last_check.definition is None:
            first = describe_error(errors[0]) if errors else self.tr("nothing to preview")
            self._say(
                self.tr("Not previewed: fix the problems first ({first}).").format(first=first),
                "error",
            )
            return
        self.preview_action.setEnabled(False)  # until the preview reports back
        self._say(self.tr("Previewing the change on the last inputs…"), "info")
        self.preview_requested.emit(self.last_check.definition)

    def preview_finished(self, message: str, tone: str) -> None:
        self.preview_action.setEnabled(self.tabs.isEnabled() and self._name is not None)
        self._say(message, tone)

    def revert(self) -> None:
        if self._saved_doc is not None and self._name is not None:
            self.load(self._name, self._revision or 0, self._saved_doc)
        else:
            self.close_workflow()

    # Showing state -----------------------------------------------------------

    def _set_dirty(self, dirty: bool) -> None:
        changed = dirty != self._dirty
        self._dirty = dirty
        if self.tabs.isEnabled():
            self.save_action.setEnabled(True)
            self.preview_action.setEnabled(self._name is not None)
        if self._name is None:
            self.title.setText(self.tr("New workflow (not saved)"))
        else:
            suffix = self.tr(" — unsaved changes") if dirty else ""
            self.title.setText(
                self.tr("{name} · revision {revision}{suffix}").format(
                    name=self._name, revision=self._revision, suffix=suffix
                )
            )
        if changed:
            self.dirty_changed.emit(dirty)

    def _problems(self, n: int) -> str:
        return self.tr("%n problem", "", n) if n == 1 else self.tr("%n problems", "", n)

    def _say(self, text: str, tone: str) -> None:
        self.status.setText(text)
        self.status.setProperty("tone", tone)
        self.status.setStyleSheet(_TONES[tone])
        self.status.setVisible(bool(text))

    def status_text(self) -> str:
        return self.status.text()
