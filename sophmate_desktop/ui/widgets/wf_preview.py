"""Change preview in the window: the editor's unsaved definition replayed (plan-only,
in the background) on the workflow's last inputs, and a dialog listing per input what
changes (unchanged / added, removed, changed) with the diffs of the selected input."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.console import Console
from sophmate_desktop.console.change_preview import ChangePreview, InputPreview
from sophmate_desktop.domain.workflow import WorkflowDefinition
from sophmate_desktop.ui.tasks import TaskRunner
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.wf_editor import WorkflowEditor
from sophmate_desktop.ui.widgets.wf_lifecycle import explain

INPUT_ROLE = Qt.ItemDataRole.UserRole + 1


def diff_text(item: InputPreview) -> str:
    if not item.available:
        return translate("sophmate", "{path} is {state}: it was not replayed.").format(
            path=item.path, state=item.summary()
        )
    parts = [item.reason] if item.reason else []
    for change in item.changes:
        parts.append(f"{change.change}: {change.kind} {change.target}\n{change.diff}")
    if not parts:
        parts.append(
            translate("sophmate", "No change: the {n} planned writes stay the same.").format(
                n=item.unchanged
            )
        )
    return "\n".join(parts)


class ChangePreviewDialog(QDialog):
    def __init__(self, result: ChangePreview, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("changePreviewDialog")
        self.setWindowTitle(self.tr("Preview change: {workflow}").format(workflow=result.workflow))
        totals = result.totals()
        self.summary = QLabel(
            self.tr(
                "The edited definition against revision {revision} on the last {inputs} "
                "inputs ({unavailable} unavailable): {added} writes added, {removed} "
                "removed, {changed} changed. Nothing was written."
            ).format(
                revision=result.revision,
                inputs=totals["inputs"],
                unavailable=totals["unavailable"],
                added=totals["added"],
                removed=totals["removed"],
                changed=totals["changed"],
            )
            if result.inputs
            else self.tr("No recorded inputs with a trigger file to replay. Nothing was written.")
        )
        self.summary.setWordWrap(True)
        self.inputs = QTreeWidget()
        self.inputs.setObjectName("previewInputs")
        self.inputs.setHeaderLabels(
            [self.tr("Run"), self.tr("Input file"), self.tr("What changes")]
        )
        self.inputs.setRootIsDecorated(False)
        for item in result.inputs:
            row = QTreeWidgetItem([str(item.run_id), item.path, item.summary()])
            row.setData(0, INPUT_ROLE, item)
            self.inputs.addTopLevelItem(row)
        self.diff = QPlainTextEdit()
        self.diff.setObjectName("previewDiff")
        self.diff.setReadOnly(True)
        self.diff.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.inputs.currentItemChanged.connect(self._show_input)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.inputs)
        split.addWidget(self.diff)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        layout.addWidget(buttons)
        self.resize(820, 560)
        if self.inputs.topLevelItemCount():
            self.inputs.setCurrentItem(self.inputs.topLevelItem(0))

    def rows(self) -> list[tuple[str, str, str]]:
        """What the list shows: (run, input file, what changes) per input."""
        items = (self.inputs.topLevelItem(i) for i in range(self.inputs.topLevelItemCount()))
        return [(r.text(0), r.text(1), r.text(2)) for r in items]

    def _show_input(self, current: QTreeWidgetItem | None) -> None:
        item = current.data(0, INPUT_ROLE) if current is not None else None
        self.diff.setPlainText(diff_text(item) if item is not None else "")


class ChangePreviewer(QObject):
    """Answers the editor's `preview_requested` with a background preview and a dialog."""

    shown = Signal(object)  # the ChangePreviewDialog

    def __init__(
        self, console: Console, tasks: TaskRunner, editor: WorkflowEditor, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.console, self.tasks, self.editor = console, tasks, editor
        self.dialog: ChangePreviewDialog | None = None
        editor.preview_requested.connect(self.start)

    def start(self, defn: WorkflowDefinition) -> None:
        self.tasks.run(
            lambda: self.console.preview_change(defn),
            self._done,
            lambda exc: self.editor.preview_finished(
                self.tr("Not previewed: {error}").format(error=explain(exc)), "error"
            ),
        )

    def _done(self, result: ChangePreview) -> None:
        totals = result.totals()
        self.editor.preview_finished(
            self.tr("Previewed on {inputs} inputs: {changed} would change.").format(
                inputs=totals["inputs"], changed=totals["changed_inputs"]
            ),
            "ok",
        )
        if self.dialog is not None:
            self.dialog.close()
        parent = self.parent()
        self.dialog = ChangePreviewDialog(result, parent if isinstance(parent, QWidget) else None)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog.finished.connect(self._forget)
        self.dialog.show()
        self.shown.emit(self.dialog)

    def _forget(self) -> None:
        self.dialog = None
