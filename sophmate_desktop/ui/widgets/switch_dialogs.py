"""The dialogs behind a kill switch: pause (a reason is required) and resume (a reason,
and what to do with the runs held while paused).

A dialog does not call the console itself: OK emits `submitted(reason, held)`, the
panel does the work and then calls `finish()` or `show_error()`, so a refusal is
shown in the dialog, where the person is looking, and nothing is lost.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.switch_text import PAUSED_RED, held_text

PAUSE_EFFECT = QT_TRANSLATE_NOOP(
    "sophmate",
    "No new run starts, runs in flight stop at their next checkpoint (a running "
    "command is killed) and no write is applied until it is resumed. Files that "
    "arrive meanwhile are kept as held runs.",
)


class SwitchDialog(QDialog):
    submitted = Signal(str, str)  # reason, held choice ("keep" | "replay" | "discard")

    def __init__(
        self,
        title: str,
        explanation: str,
        ok_text: str,
        parent: QWidget | None = None,
        *,
        held_runs: int | None = None,
        example: str | None = None,
        by_category: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        text = QLabel(explanation)
        text.setObjectName("dialogExplanation")
        text.setWordWrap(True)
        layout.addWidget(text)

        reason_label = QLabel(translate("sophmate", "&Reason (required; kept in the audit trail):"))
        self.reason_edit = QLineEdit()
        self.reason_edit.setObjectName("reasonEdit")
        self.reason_edit.setPlaceholderText(example or self.tr("e.g. hosting incident"))
        reason_label.setBuddy(self.reason_edit)
        layout.addWidget(reason_label)
        layout.addWidget(self.reason_edit)

        self._add_held_choices(layout, held_runs)
        self._add_by_category(layout, by_category)
        self._add_error_and_buttons(layout, ok_text)
        self._ok_text = ok_text
        self.reason_edit.textChanged.connect(self._update_ok)
        self._busy = False
        self._update_ok()

    def _add_held_choices(self, layout: QVBoxLayout, held_runs: int | None) -> None:
        self.held_group = QButtonGroup(self)
        self.held_buttons: dict[str, QRadioButton] = {}
        self.held_box: QGroupBox | None = None
        if held_runs:
            box = self.held_box = QGroupBox(
                self.tr("{held} waiting").format(held=held_text(held_runs).capitalize())
            )
            box_layout = QVBoxLayout(box)
            one = held_runs == 1
            for choice, words in (
                (
                    "replay",
                    self.tr("Re&play it now")
                    if one
                    else self.tr("Re&play all {n} now").format(n=held_runs),
                ),
                (
                    "discard",
                    self.tr("&Discard it (they will not run)")
                    if one
                    else self.tr("&Discard all {n} (they will not run)").format(n=held_runs),
                ),
                ("keep", self.tr("&Keep them held and decide later")),
            ):
                button = QRadioButton(words)
                button.setObjectName(f"{choice}Held")
                self.held_group.addButton(button)
                self.held_buttons[choice] = button
                box_layout.addWidget(button)
            self.held_group.buttonToggled.connect(self._update_ok)
            layout.addWidget(box)
        elif held_runs == 0:
            layout.addWidget(QLabel(translate("sophmate", "No runs are held.")))

    def _add_by_category(self, layout: QVBoxLayout, by_category: bool) -> None:
        self.by_category_check: QCheckBox | None = None
        if by_category:
            check = self.by_category_check = QCheckBox(
                translate("sophmate", "Resume &category by category")
            )
            check.setObjectName("byCategoryCheck")
            check.toggled.connect(self._by_category_toggled)
            hint = QLabel(
                self.tr(
                    "Every category stays paused, with its held runs, until you resume it; "
                    "you choose to replay or discard its held runs there."
                )
            )
            hint.setObjectName("hint")
            hint.setWordWrap(True)
            hint.setContentsMargins(22, 0, 0, 0)  # under the check box's text
            layout.addWidget(check)
            layout.addWidget(hint)

    def _add_error_and_buttons(self, layout: QVBoxLayout, ok_text: str) -> None:
        self.error_label = QLabel()
        self.error_label.setObjectName("dialogError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {PAUSED_RED};")
        self.error_label.hide()
        layout.addWidget(self.error_label)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button: QPushButton = self.buttons.addButton(
            ok_text, QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.ok_button.setObjectName("dialogOk")
        # Enter means OK, and only once OK is allowed: never fall back to Cancel
        for button in self.buttons.buttons():
            button.setAutoDefault(False)
        self.ok_button.setDefault(True)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    @property
    def reason(self) -> str:
        return self.reason_edit.text().strip()

    @property
    def held_choice(self) -> str | None:
        if self.by_category_check is not None and self.by_category_check.isChecked():
            return "by_category"
        if not self.held_buttons:
            return "keep"
        for choice, button in self.held_buttons.items():
            if button.isChecked():
                return choice
        return None

    def _by_category_toggled(self, checked: bool) -> None:
        if self.held_box is not None:  # decided per category instead
            self.held_box.setEnabled(not checked)
        # the button says what it does: only the global switch is lifted
        self.ok_button.setText(self.tr("Resume category by category") if checked else self._ok_text)
        self._update_ok()

    def _update_ok(self, *_args) -> None:
        self.ok_button.setEnabled(
            not self._busy and bool(self.reason) and self.held_choice is not None
        )

    def _submit(self) -> None:
        if not self.ok_button.isEnabled():
            return
        self.error_label.hide()
        self.set_busy(True)
        self.submitted.emit(self.reason, self.held_choice or "keep")

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.reason_edit.setReadOnly(busy)
        self.setCursor(Qt.CursorShape.BusyCursor if busy else Qt.CursorShape.ArrowCursor)
        self._update_ok()

    def show_error(self, message: str) -> None:
        self.set_busy(False)
        self.error_label.setText(message)
        self.error_label.show()

    def finish(self) -> None:
        self.set_busy(False)
        self.accept()


def pause_dialog(label: str, parent: QWidget | None = None) -> SwitchDialog:
    what = "everything" if label == "everything" else label
    title = translate("sophmate", "Pause {what}").format(what=what)
    dialog = SwitchDialog(
        title,
        translate("sophmate", "Pause {what}? {effect}").format(
            what=what, effect=translate("sophmate", PAUSE_EFFECT)
        ),
        title if len(what) < 24 else translate("sophmate", "Pause"),
        parent,
    )
    dialog.setObjectName("pauseDialog")
    return dialog


def resume_dialog(
    label: str,
    held_runs: int | None,
    paused_text: str,
    parent: QWidget | None = None,
    *,
    by_category: bool = False,
) -> SwitchDialog:
    """`held_runs` None: this switch holds no runs (an effect switch), so no choice.
    `by_category` (resuming everything): offer to resume one category at a time."""
    title = translate("sophmate", "Resume {what}").format(what=label)
    dialog = SwitchDialog(
        title,
        translate("sophmate", "Resume {what}? It was paused {when}.").format(
            what=label, when=paused_text
        ),
        title if len(label) < 24 else translate("sophmate", "Resume"),
        parent,
        held_runs=held_runs,
        example=translate("sophmate", "e.g. incident over, provider confirmed"),
        by_category=by_category,
    )
    dialog.setObjectName("resumeDialog")
    return dialog
