"""A run's page: the plain-language account on top, then its audit timeline, its
writes and its diagnostics in tabs, Retry for a failed run and Undo for applied
file writes (ui/widgets/undo_control.py).

Everything shown comes from one console call (`run_details`). Retry queues a new
attempt of the same trigger (`retry_run`, audited with the reason typed beside it).
"""

from __future__ import annotations

import html

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QFontDatabase, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.console.history_pages import RunDetails
from sophmate_desktop.domain.errors import SophmateError
from sophmate_desktop.domain.run_account import RunAccount, stderr_of
from sophmate_desktop.ui.models.base import ROW_ROLE, LazyTableModel
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.widgets.run_columns import (
    list_fetch,
    timeline_columns,
    when,
    words,
    write_columns,
)
from sophmate_desktop.ui.widgets.run_prompts import PromptCallsView
from sophmate_desktop.ui.widgets.tables import setup_rows
from sophmate_desktop.ui.widgets.undo_control import UndoControl
from sophmate_desktop.ui.widgets.workflow_switch import WorkflowSwitchControl

INBOX_WRITE_STATUSES = ("pending", "interrupted")


def account_html(account: RunAccount) -> str:
    parts = [f"<h3>{html.escape(account.headline)}</h3>"]
    parts += [f"<p>{html.escape(p)}</p>" for p in account.paragraphs]
    if account.bullets:
        items = "".join(f"<li>{html.escape(b)}</li>" for b in account.bullets)
        parts.append(f"<p><b>Planned writes</b></p><ul>{items}</ul>")
    return "".join(parts)


def _table(name: str) -> QTableView:
    view = QTableView()
    setup_rows(view, name)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


def _mono(name: str) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setObjectName(name)
    box.setReadOnly(True)
    box.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    box.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    return box


class RunPanel(QWidget):
    back_requested = Signal()
    retried = Signal(int)  # the new run's id

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runPanel")
        self.services = services
        self.console = services.console
        self.details: RunDetails | None = None

        top = self._build_top()

        self.message = QLabel()
        self.message.setObjectName("runMessage")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.linkActivated.connect(self._link)
        self.message.hide()

        self.account_view = QTextBrowser()
        self.account_view.setObjectName("runAccount")
        self.account_view.setOpenLinks(False)

        self._build_tables()
        diagnostics = self._build_diagnostics()

        self.tabs = QTabWidget()
        self.tabs.setObjectName("runTabs")
        self.tabs.addTab(self.timeline_view, self.tr("&Timeline"))
        self.tabs.addTab(self.writes_view, self.tr("&Writes"))
        self.tabs.addTab(diagnostics, self.tr("&Diagnostics"))
        self.prompts_view = PromptCallsView(self)
        self.tabs.addTab(self.prompts_view, self.tr("&Prompts"))

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.account_view)
        splitter.addWidget(self.tabs)
        splitter.setSizes([360, 440])  # the account gets room: it is what people read
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(splitter, 1)
        back = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        back.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        back.activated.connect(self.back_requested)

    def set_back_target(self, title: str | None) -> None:
        """Back leads to the page `title` the run was opened from (None: the runs)."""
        where = title or self.tr("runs")
        self.back_button.setText(self.tr("← &Back to {where}").format(where=where))
        self.back_button.setToolTip(self.tr("Back to {where} (Esc)").format(where=where))

    def _build_top(self) -> QHBoxLayout:
        self.back_button = QPushButton(self.tr("← &Back to runs"))
        self.back_button.setObjectName("runBackButton")
        self.back_button.setToolTip(self.tr("Back to the run history (Esc)"))
        self.back_button.clicked.connect(self.back_requested)
        self.title = QLabel()
        self.title.setObjectName("runTitle")
        self.status_badge = QLabel()
        self.mode_badge = QLabel()
        self.retry_reason = QLineEdit()
        self.retry_reason.setObjectName("retryReasonEdit")
        self.retry_reason.setPlaceholderText(self.tr("Why retry? (recorded in the audit)"))
        self.retry_reason.setMinimumWidth(240)
        self.retry_reason.returnPressed.connect(self.retry)
        self.retry_button = QPushButton(self.tr("&Retry"))
        self.retry_button.setObjectName("retryButton")
        self.retry_button.setToolTip(self.tr("Queue a new attempt of this run's trigger"))
        self.retry_button.clicked.connect(self.retry)
        # The workflow's own kill switch, next to what its run did.
        self.pause_button = QPushButton(self.tr("Pa&use workflow…"))
        self.pause_button.setObjectName("runPauseButton")
        self.pause_button.setToolTip(self.tr("Pause or resume this run's workflow (asks a reason)"))
        self.pause_button.clicked.connect(self._toggle_pause)
        self.workflow_switch = WorkflowSwitchControl(self.console, self.services.tasks, self)
        self.workflow_switch.said.connect(lambda text, _tone: self._say(text))
        self.workflow_switch.changed.connect(self.reload)
        self.undo = UndoControl(self.console, self)
        self.undo.said.connect(lambda text, error: self._say(text, error=error))
        self.undo.planned.connect(lambda _run: self.reload())
        top = QHBoxLayout()
        for widget in (self.back_button, self.title, self.status_badge, self.mode_badge):
            top.addWidget(widget)
        top.addStretch(1)
        top.addWidget(self.pause_button)
        top.addWidget(self.undo)
        top.addWidget(self.retry_reason)
        top.addWidget(self.retry_button)
        return top

    def _build_tables(self) -> None:
        self.timeline_model = LazyTableModel(timeline_columns(), list_fetch(()), parent=self)
        self.timeline_view = _table("runTimelineTable")
        self.timeline_view.setModel(self.timeline_model)
        self.writes_model = LazyTableModel(write_columns(), list_fetch(()), parent=self)
        self.writes_view = _table("runWritesTable")
        self.writes_view.setModel(self.writes_model)
        self.writes_view.setToolTip(
            self.tr("Double-click or Enter on a pending write opens it in the inbox")
        )
        self.writes_view.activated.connect(self._write_activated)
        self.writes_view.selectionModel().currentRowChanged.connect(
            lambda current, _old: self.undo.set_write(current.data(ROW_ROLE))
        )

    def _build_diagnostics(self) -> QWidget:
        self.error_label = QLabel()
        self.error_label.setObjectName("runError")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stderr_box = _mono("stderrBox")
        self.traceback_box = _mono("tracebackBox")
        self.stderr_title = QLabel(self.tr("Error output (end):"))
        self.traceback_title = QLabel(self.tr("Traceback:"))
        diagnostics = QWidget()
        column = QVBoxLayout(diagnostics)
        for widget in (
            self.error_label,
            self.stderr_title,
            self.stderr_box,
            self.traceback_title,
            self.traceback_box,
        ):
            column.addWidget(widget)
        column.addStretch(1)
        return diagnostics

    @property
    def run_id(self) -> int | None:
        return self.details.run.id if self.details else None

    def show_run(self, run_id: int) -> None:
        if run_id != self.run_id:
            self.message.hide()
            self.retry_reason.clear()
            self.tabs.setCurrentIndex(0)
        try:
            details = self.console.run_details(run_id)
        except SophmateError as exc:
            self.details = None
            self.title.setText(self.tr("Run {run_id}").format(run_id=run_id))
            self.account_view.setPlainText(str(exc))
            self.retry_button.setEnabled(False)
            return
        self.details = details
        self._fill(details)

    def reload(self) -> None:
        if self.run_id is not None:
            self.show_run(self.run_id)

    def _fill(self, details: RunDetails) -> None:
        run = details.run
        self.title.setText(
            self.tr("<b>Run {id}</b> · {workflow}").format(
                id=run.id, workflow=html.escape(run.workflow)
            )
        )
        for badge, value in ((self.status_badge, run.status), (self.mode_badge, run.mode)):
            badge.setText(words(value))
            badge.setProperty("badge", _badge(value))
            badge.style().unpolish(badge)
            badge.style().polish(badge)
        self.account_view.setHtml(account_html(details.account))
        self.timeline_model.set_fetch(list_fetch(details.timeline))
        self.timeline_model.fetch_all()
        self.writes_model.set_fetch(list_fetch(details.writes))
        self.writes_model.fetch_all()
        self.tabs.setTabText(1, self.tr("&Writes ({n})").format(n=len(details.writes)))
        self.timeline_view.resizeColumnsToContents()
        self.writes_view.resizeColumnsToContents()
        self._fill_diagnostics(details)
        self.prompts_view.set_calls(details.prompts)
        self.tabs.setTabText(3, self.tr("&Prompts ({0})").format(len(details.prompts)))
        paused = self.console.workflow_pause_state(run.workflow).paused
        self.pause_button.setText(
            self.tr("Res&ume workflow…") if paused else self.tr("Pa&use workflow…")
        )
        failed = run.status == "failed"
        self.retry_button.setEnabled(failed)
        self.retry_reason.setEnabled(failed)
        applied = sum(1 for w in details.writes if w.status == "applied")
        self.undo.set_run(run.id, applied)

    def _fill_diagnostics(self, details: RunDetails) -> None:
        run = details.run
        failed = [w for w in details.writes if w.status == "failed"]
        failed_line = self.tr("Write {seq} ({kind} to {target}) failed: {error}")
        lines = [
            failed_line.format(seq=w.seq, kind=w.kind, target=w.target, error=w.error)
            for w in failed
        ]
        if run.error:
            # With a failed write, run.error is what an earlier (retried) attempt hit.
            line = self.tr("Earlier attempt: {error}") if failed else self.tr("Error: {error}")
            lines.append(line.format(error=run.error))
        if run.finished_at:
            lines.append(
                self.tr("Finished {when} UTC, attempt {attempt}.").format(
                    when=when(run.finished_at), attempt=run.attempt
                )
            )
        self.error_label.setText("\n".join(lines) or self.tr("No error recorded."))
        tail = stderr_of(run.diagnostics, [w.error or "" for w in failed])
        self.stderr_box.setPlainText(tail or "")
        trace = (run.diagnostics or {}).get("traceback") or ""
        self.traceback_box.setPlainText(trace)
        for widget in (self.stderr_title, self.stderr_box):
            widget.setVisible(bool(tail))
        for widget in (self.traceback_title, self.traceback_box):
            widget.setVisible(bool(trace))
        warn = " ⚠" if lines and run.status == "failed" else ""
        self.tabs.setTabText(2, self.tr("&Diagnostics") + warn)

    # Actions ---------------------------------------------------------------

    def _toggle_pause(self) -> None:
        if self.details is not None:
            self.workflow_switch.toggle(self.details.run.workflow)

    def _say(self, text: str) -> None:
        self.message.setText(html.escape(text))
        self.message.show()

    def retry(self) -> None:
        if self.details is None or not self.retry_button.isEnabled():
            return
        old = self.details.run.id
        try:
            row = self.console.retry_run(old, self.retry_reason.text())
        except SophmateError as exc:
            self._say(html.escape(str(exc)), error=True)
            return
        self.retry_reason.clear()
        state = self.tr("held until the pause ends") if row.status == "held" else self.tr("queued")
        self._say(
            self.tr(
                'Run {id} {state}: a new attempt of run {old}. <a href="run:{id}">Open run {id}</a>'
            ).format(id=row.id, state=state, old=old)
        )
        self.reload()
        self.retried.emit(row.id)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setProperty("error", error)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.show()

    def _link(self, link: str) -> None:
        if link.startswith("run:"):
            self.services.navigator.show_run(int(link[4:]))

    def _write_activated(self, index: QModelIndex) -> None:
        write = index.data(ROW_ROLE)
        if write is None:
            return
        if write.status in INBOX_WRITE_STATUSES:
            self.services.navigator.show_write(write.id)
        else:
            self._say(
                self.tr("Write {seq} is {words}: it is not in the inbox.").format(
                    seq=write.seq, words=words(write.status)
                )
            )


def _badge(status: str) -> str:
    """The style sheet's badge for a status or mode (unknown values are grey)."""
    return {"failed": "failed", "awaiting_approval": "pending", "succeeded": "ok"}.get(
        status, status
    )
