"""A workflow's own kill switch in the window: the Pause/Resume buttons of the
Workflows, run and Reviews pages and the kill-switch panel all open these dialogs.

Resuming a workflow that paused itself says why it paused; when that cause made a
review due, the dialog offers to record it with the resume (notes: the reason).
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QObject, Signal
from PySide6.QtWidgets import QCheckBox, QWidget

from sophmate_desktop.console import Console
from sophmate_desktop.console.workflow_switch import WorkflowSwitchResult
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.switch_dialogs import SwitchDialog, pause_dialog, resume_dialog
from sophmate_desktop.ui.widgets.switch_text import local_time

# Marked for lupdate here, translated where shown (_words).
CAUSE_TEXT = {
    "consecutive_failures": QT_TRANSLATE_NOOP(
        "sophmate", "its runs failed too many times in a row"
    ),
    "provider_change": QT_TRANSLATE_NOOP("sophmate", "a connection it uses changed"),
    "plugin_update": QT_TRANSLATE_NOOP("sophmate", "a plug-in it uses was updated"),
}
REVIEW_TEXT = {
    "after_failure": QT_TRANSLATE_NOOP("sophmate", "after-failure"),
    "provider_change": QT_TRANSLATE_NOOP("sophmate", "provider-change"),
}


def _words(table: dict[str, str], key: str, default: str) -> str:
    return translate("sophmate", table[key]) if key in table else default


def paused_text(state: WorkflowSwitchResult) -> str:
    """ "by ana 12:03: wrong folder", or for an automatic pause why it paused itself."""
    when = (
        translate("sophmate", " at {time}").format(time=local_time(state.paused_at))
        if state.paused_at
        else ""
    )
    reason = state.paused_reason or translate("sophmate", "no reason given")
    if state.paused_itself:
        cause = _words(CAUSE_TEXT, state.cause or "", translate("sophmate", "a pause rule applied"))
        return translate("sophmate", "by itself{when}, because {cause}: {reason}").format(
            when=when, cause=cause, reason=reason
        )
    who = state.paused_by or translate("sophmate", "unknown")
    return translate("sophmate", "by {who}{when}: {reason}").format(
        who=who, when=when, reason=reason
    )


def workflow_resume_dialog(state: WorkflowSwitchResult, parent: QWidget | None) -> SwitchDialog:
    label = translate("sophmate", "workflow {name}").format(name=state.name)
    dialog = resume_dialog(label, state.held_runs, paused_text(state), parent)
    dialog.setObjectName("workflowResumeDialog")
    dialog.review_check = None  # type: ignore[attr-defined]
    if state.review_due:
        words = _words(REVIEW_TEXT, state.review_due, state.review_due)
        check = QCheckBox(
            translate("sophmate", "Record the {words} review now (notes: the reason)").format(
                words=words
            )
        )
        check.setObjectName("recordReviewCheck")
        check.setToolTip(
            translate(
                "sophmate", "Its pause made a {words} review due; this records it as yours."
            ).format(words=words)
        )
        layout = dialog.layout()
        layout.insertWidget(layout.indexOf(dialog.error_label), check)
        dialog.review_check = check  # type: ignore[attr-defined]
    return dialog


class WorkflowSwitchControl(QObject):
    """Opens the pause or resume dialog of one workflow and does what it asks."""

    said = Signal(str, str)  # text, tone ("ok" | "error" | "info")
    changed = Signal()

    def __init__(self, console: Console, tasks, parent: QWidget) -> None:
        super().__init__(parent)
        self.console = console
        self.tasks = tasks
        self._window = parent
        self.dialog: SwitchDialog | None = None

    def toggle(self, name: str) -> SwitchDialog | None:
        """Pause `name` when it runs, resume it when it is paused (asks first)."""
        try:
            state = self.console.workflow_pause_state(name)
        except Exception as exc:
            self.said.emit(str(exc), "error")
            return None
        return self.ask_resume(state) if state.paused else self.ask_pause(name)

    def ask_pause(self, name: str) -> SwitchDialog:
        label = self.tr("workflow {name}").format(name=name)
        dialog = pause_dialog(label, self._window.window())
        dialog.setObjectName("workflowPauseDialog")
        dialog.submitted.connect(lambda reason, _held: self._pause(dialog, name, reason))
        return self._open(dialog)

    def ask_resume(self, state: WorkflowSwitchResult) -> SwitchDialog:
        dialog = workflow_resume_dialog(state, self._window.window())
        dialog.submitted.connect(
            lambda reason, held: self._resume(dialog, state.name, reason, held)
        )
        return self._open(dialog)

    def _open(self, dialog: SwitchDialog) -> SwitchDialog:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        dialog.finished.connect(lambda _result: self._closed(dialog))
        dialog.open()
        dialog.reason_edit.setFocus()
        return dialog

    def _closed(self, dialog: SwitchDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def _pause(self, dialog: SwitchDialog, name: str, reason: str) -> None:
        # On the main thread, like every pause: one small transaction, never queued.
        try:
            result = self.console.pause_workflow(name, reason)
        except Exception as exc:
            dialog.show_error(str(exc))
            return
        dialog.finish()
        self.said.emit(result.message(), "ok" if result.changed else "info")
        self.changed.emit()

    def _resume(self, dialog: SwitchDialog, name: str, reason: str, held: str) -> None:
        check = getattr(dialog, "review_check", None)
        record = check is not None and check.isChecked()
        console = self.console

        def work() -> str:
            result = console.resume_workflow(name, reason, held)  # type: ignore[arg-type]
            text = result.message()
            if record and result.changed and result.review_due:
                console.record_review(name, result.review_due, notes=reason)
                kind = _words(REVIEW_TEXT, result.review_due, result.review_due)
                text += translate("sophmate", "\n{kind} review recorded").format(kind=kind)
            return text

        def done(text: str) -> None:
            dialog.finish()
            self.said.emit(text.replace("\n", "; "), "ok")
            self.changed.emit()

        self.tasks.run(work, done, lambda exc: dialog.show_error(str(exc)))
