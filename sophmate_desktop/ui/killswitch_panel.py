"""The kill-switch panel at the top of the main window, and the red banner that says
what is paused (DESIGN section 5).

One toggle button per category and per kind of effect, and **Pause all** (the global
switch). Pausing asks for a reason; resuming asks for a reason and what to do with
the runs held meanwhile. A paused switch is red and says who paused it, when and why.
"""

from __future__ import annotations

import functools

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.domain.enums import SwitchScope
from sophmate_desktop.domain.errors import DatabaseBusy
from sophmate_desktop.domain.events import Event
from sophmate_desktop.store.rows import SwitchRow
from sophmate_desktop.ui.background_read import BackgroundRead
from sophmate_desktop.ui.bridge import BatchedEvents
from sophmate_desktop.ui.debounce import Debouncer
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.busy_pause import BusyPause, first_try
from sophmate_desktop.ui.widgets.switch_dialogs import SwitchDialog, pause_dialog, resume_dialog
from sophmate_desktop.ui.widgets.switch_flow import flow_container
from sophmate_desktop.ui.widgets.switch_text import (
    BANNER_STYLE,
    PAUSED_RED,
    concerns_switches,
    held_text,
    label_of,
    local_time,
    paused_summary,
    set_paused_look,
    switch_tooltip,
    who_when_why,
)
from sophmate_desktop.ui.widgets.workflow_switch import WorkflowSwitchControl

GLOBAL_KEY = (SwitchScope.GLOBAL.value, "all")
WORKFLOW_SCOPE = "workflow"


def _all_rows(console) -> list[SwitchRow]:
    """Every switch, then each paused workflow (its own switch, scope "workflow")."""
    return console.list_switches() + console.paused_workflow_rows()


class KillSwitchPanel(BatchedEvents, QWidget):
    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("killSwitchPanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.services = services
        self.rows: dict[tuple[str, str], SwitchRow] = {}
        self.buttons: dict[tuple[str, str], QPushButton] = {}
        self.dialog: SwitchDialog | None = None

        self.pause_all_action = QAction(translate("sophmate", "&Pause all…"), self)
        self.pause_all_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        self.pause_all_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.pause_all_action.setToolTip(
            translate("sophmate", "Pause every workflow now (Ctrl+Shift+P)")
        )
        self.pause_all_action.triggered.connect(self.pause_all)

        self.switch_area, self.flow = flow_container()
        # Parented from the start: a parentless label that is shown becomes a window
        # of its own for a moment and takes the focus from the main window.
        self.category_label = QLabel(translate("sophmate", "<b>Categories</b>"), self.switch_area)
        self.effect_label = QLabel(translate("sophmate", "<b>Effects</b>"), self.switch_area)
        self.effect_label.setContentsMargins(12, 0, 0, 0)
        self.workflow_label = QLabel(translate("sophmate", "<b>Workflows</b>"), self.switch_area)
        self.workflow_label.setContentsMargins(12, 0, 0, 0)
        self.workflow_label.hide()
        line_height = QPushButton(translate("sophmate", "X")).sizeHint().height()
        for label in (self.category_label, self.effect_label, self.workflow_label):
            label.setMinimumHeight(line_height)  # centred on the buttons' line
            label.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        self.pause_all_button = QPushButton(translate("sophmate", "Pause all…"))
        self.pause_all_button.setObjectName("pauseAllButton")
        self.pause_all_button.setCheckable(True)
        self.pause_all_button.setToolTip(self.pause_all_action.toolTip())
        self.pause_all_button.clicked.connect(lambda: self._clicked(GLOBAL_KEY))
        self.message = QLabel()
        self.message.setObjectName("killSwitchMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {PAUSED_RED};")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.switch_area, 1)
        top.addWidget(self.pause_all_button, 0, Qt.AlignmentFlag.AlignTop)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.setSpacing(4)
        column.addLayout(top)
        column.addWidget(self.message)

        # A paused workflow is shown here too, as its own switch: click to resume it.
        self.workflow_switch = WorkflowSwitchControl(services.console, services.tasks, self)
        self.workflow_switch.said.connect(self._workflow_said)
        self.workflow_switch.changed.connect(self.refresh)

        # Events (other people's and processes' changes) are read in the background;
        # construction and a person's own pause or resume read at once, so the switch
        # shows its new state as the dialog closes. `_shown` drops a background result
        # that an immediate read has overtaken.
        self._shown = 0
        self._reader = BackgroundRead(
            self, services.tasks, lambda: None, self._read_in_background, self._read_failed
        )
        self._refresh_later = Debouncer(self, self.refresh_in_background)
        services.events.listen(self)
        self.refresh()

    # Showing -------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if concerns_switches(event.kind):
            self._refresh_later.poke()

    def refresh(self) -> None:
        """Re-read every switch and show it (now, on this thread)."""
        try:
            rows = _all_rows(self.services.console)
        except Exception as exc:  # the database went away: say so, keep the old state
            self._read_failed(exc)
            return
        self._shown += 1
        self._show_rows(rows)

    def refresh_in_background(self) -> None:
        console, shown = self.services.console, self._shown
        self._reader.request(lambda: (shown, _all_rows(console)))

    @property
    def reading(self) -> bool:
        return self._reader.loading

    def _read_in_background(self, result: tuple[int, list[SwitchRow]]) -> None:
        shown, rows = result
        if shown == self._shown:
            self._show_rows(rows)

    def _read_failed(self, error: BaseException) -> None:
        self.show_message(self.tr("Could not read the kill switches: {error}").format(error=error))

    def _show_rows(self, rows: list[SwitchRow]) -> None:
        self.rows = {(r.scope, r.name): r for r in rows}
        # categories first, then kinds of effect: the order the buttons are laid out in
        wanted = [k for k in self.rows if k[0] == SwitchScope.CATEGORY.value]
        wanted += [k for k in self.rows if k[0] == SwitchScope.EFFECT.value]
        wanted += [k for k in self.rows if k[0] == WORKFLOW_SCOPE]
        if wanted != [k for k in self.buttons if k != GLOBAL_KEY]:
            self._rebuild(wanted)
        for key, row in self.rows.items():
            self._show_row(key, row)

    def _rebuild(self, keys: list[tuple[str, str]]) -> None:
        while self.flow.count():
            item = self.flow.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None and widget not in self._group_labels:
                widget.deleteLater()
        self.buttons = {GLOBAL_KEY: self.pause_all_button}
        categories = [k for k in keys if k[0] == SwitchScope.CATEGORY.value]
        effects = [k for k in keys if k[0] == SwitchScope.EFFECT.value]
        workflows = [k for k in keys if k[0] == WORKFLOW_SCOPE]
        groups = (categories, effects, workflows)
        for group_label, group in zip(self._group_labels, groups, strict=True):
            if not group:
                group_label.hide()
                continue
            self.flow.addWidget(group_label)
            group_label.show()
            for key in group:
                button = QPushButton(label_of(self.rows[key]))
                button.setObjectName(f"switch-{key[0]}-{key[1]}")
                button.setCheckable(True)
                button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
                button.clicked.connect(lambda _checked=False, k=key: self._clicked(k))
                self.flow.addWidget(button)
                self.buttons[key] = button
        self.switch_area.updateGeometry()

    @property
    def _group_labels(self) -> tuple[QLabel, QLabel, QLabel]:
        return (self.category_label, self.effect_label, self.workflow_label)

    def _workflow_said(self, text: str, tone: str) -> None:
        if tone == "error":
            self.show_message(text)

    def _show_row(self, key: tuple[str, str], row: SwitchRow) -> None:
        button = self.buttons.get(key)
        if button is None:
            return
        if key == GLOBAL_KEY:
            text = self.tr("Resume all…") if row.paused else self.tr("Pause all…")
            self.pause_all_action.setText(
                self.tr("&Pause all… (everything is paused)")
                if row.paused
                else self.tr("&Pause all…")
            )
        else:
            text = row.name if row.scope == WORKFLOW_SCOPE else label_of(row)
            if row.paused:
                held = f", {held_text(row.held_runs)}" if row.held_runs else ""
                text = self.tr("{switch} — paused{held}").format(switch=text, held=held)
        button.setText(text)
        button.setChecked(row.paused)
        button.setToolTip(switch_tooltip(row))
        state = self.tr("paused") if row.paused else self.tr("running")
        button.setAccessibleName(
            self.tr("Kill switch {what}: {state}").format(what=label_of(row), state=state)
        )
        button.setAccessibleDescription(switch_tooltip(row))
        set_paused_look(button, row.paused)

    def show_message(self, text: str) -> None:
        """A refusal or an error, in place (empty text hides it)."""
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def switch_button(self, scope: str, name: str) -> QPushButton:
        return self.buttons[(scope, name)]

    # Acting --------------------------------------------------------------

    def _clicked(self, key: tuple[str, str]) -> None:
        # A person decides on what is true now: the held count and who paused come
        # from one direct read, not from the last background refresh.
        self.refresh()
        row = self.rows.get(key)
        button = self.buttons.get(key)
        if button is not None and row is not None:
            button.setChecked(row.paused)  # the switch flips only once the change commits
        if row is None:
            return
        if row.scope == WORKFLOW_SCOPE:
            self.show_message("")
            self.workflow_switch.toggle(row.name)
        elif row.paused:
            self.ask_resume(key)
        else:
            self.ask_pause(key)

    def pause_all(self) -> None:
        """Ctrl+Shift+P, the Automation menu and the tray: pause everything."""
        self.refresh()  # as in _clicked: decide on the current state
        row = self.rows.get(GLOBAL_KEY)
        if row is not None and row.paused:
            self.show_message(
                self.tr("Everything is already paused {who}.").format(who=who_when_why(row))
            )
            return
        self.ask_pause(GLOBAL_KEY)

    def ask_pause(self, key: tuple[str, str]) -> SwitchDialog:
        row = self.rows[key]
        dialog = pause_dialog(label_of(row), self.window())
        dialog.submitted.connect(lambda reason, _held: self._pause(dialog, key, reason))
        return self._open(dialog)

    def ask_resume(self, key: tuple[str, str]) -> SwitchDialog:
        row = self.rows[key]
        holds = row.scope != SwitchScope.EFFECT.value
        dialog = resume_dialog(
            label_of(row),
            row.held_runs if holds else None,
            who_when_why(row),
            self.window(),
            by_category=key == GLOBAL_KEY,
        )
        dialog.submitted.connect(lambda reason, held: self._resume(dialog, key, reason, held))
        return self._open(dialog)

    def _open(self, dialog: SwitchDialog) -> SwitchDialog:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        dialog.finished.connect(lambda _result: self._dialog_closed(dialog))
        self.show_message("")
        window = self.window()
        if not window.isVisible():  # asked from the tray while the window was closed to it
            window.showNormal()
            window.raise_()
            window.activateWindow()
        dialog.open()
        dialog.reason_edit.setFocus()
        return dialog

    def _dialog_closed(self, dialog: SwitchDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def _pause(self, dialog: SwitchDialog, key: tuple[str, str], reason: str) -> None:
        # On the main thread on purpose: a pause must never wait in the task pool
        # behind an export or a bulk decision. It is one small transaction.
        console = self.services.console
        scope, name = key

        def work() -> SwitchRow:
            if scope == SwitchScope.GLOBAL.value:
                return console.pause_all(reason)
            if scope == SwitchScope.CATEGORY.value:
                return console.pause_category(name, reason)
            return console.pause_effect(name, reason)

        try:
            console.through_busy(work, first_try())
        except DatabaseBusy:  # another process holds the database: wait in the background
            self.busy_pause.start(dialog, work, lambda _row: self._paused(dialog), self._gave_up)
            return
        except Exception as exc:
            dialog.show_error(str(exc))
            return
        self._paused(dialog)

    @functools.cached_property
    def busy_pause(self) -> BusyPause:
        """A pause waiting for a busy database (made the first time one has to)."""
        return BusyPause(self.services, self)

    def _paused(self, dialog: SwitchDialog) -> None:
        if shiboken6.isValid(dialog) and dialog.isVisible():
            dialog.finish()
        self.refresh()

    def _gave_up(self, exc: BaseException) -> None:
        self.show_message(self.tr("The pause was NOT recorded: {exc}").format(exc=exc))

    def _resume(self, dialog: SwitchDialog, key: tuple[str, str], reason: str, held: str) -> None:
        console = self.services.console
        scope, name = key

        def work() -> SwitchRow:
            if scope == SwitchScope.GLOBAL.value:
                return console.resume_all(reason, held=held)
            if scope == SwitchScope.CATEGORY.value:
                return console.resume_category(name, reason, held=held)
            return console.resume_effect(name, reason)

        def done(row: SwitchRow) -> None:
            dialog.finish()
            self.refresh()
            if row.left_held:  # after refresh(): it would clear the message
                self.show_message(" ".join(row.left_held))

        # Replaying or discarding thousands of held runs is a bulk change: off the GUI thread.
        self.services.tasks.run(work, done, lambda exc: dialog.show_error(str(exc)))


class PausedBanner(BatchedEvents, QLabel):
    """Across the window: "Paused: finance (by ana 12:03: audit in progress) · …"."""

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pausedBanner")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.services = services
        self.paused: list[SwitchRow] = []
        self._reader = BackgroundRead(
            self, services.tasks, self._read, self._show, lambda _error: None
        )  # on failure the panel reports database trouble; keep what we showed
        self._refresh_later = Debouncer(self, self.refresh)
        services.events.listen(self)
        self.hide()
        self.refresh()

    def _on_event(self, event: Event) -> None:
        if concerns_switches(event.kind):
            self._refresh_later.poke()

    def refresh(self) -> None:
        """Re-read what is paused in the background and show it when it arrives."""
        self._reader.request()

    @property
    def reading(self) -> bool:
        return self._reader.loading

    def _read(self) -> tuple[list[SwitchRow], list[SwitchRow]]:
        console = self.services.console
        return [r for r in console.list_switches() if r.paused], console.paused_workflow_rows()

    def _show(self, result: tuple[list[SwitchRow], list[SwitchRow]]) -> None:
        switches, workflows = result
        # everything first, then categories, then kinds of effect
        order = {SwitchScope.GLOBAL.value: 0, SwitchScope.CATEGORY.value: 1}
        switches.sort(key=lambda r: order.get(r.scope, 2))
        self.paused = switches + workflows
        if not self.paused:
            self.clear()
            self.hide()
            return
        summary = " · ".join(paused_summary(r) for r in self.paused)
        self.setText(self.tr("Paused: {summary}").format(summary=summary))
        self.setAccessibleName(self.tr("Paused"))
        self.setAccessibleDescription(self.text())
        line = self.tr("{switch}: paused by {actor} at {when} — {reason}")
        self.setToolTip(
            "\n".join(
                line.format(
                    switch=label_of(r),
                    actor=r.paused_by or self.tr("unknown"),
                    when=local_time(r.paused_at),
                    reason=r.paused_reason or self.tr("no reason given"),
                )
                for r in self.paused
            )
        )
        set_paused_look(self, True, BANNER_STYLE)
        self.show()
