"""Dry runs on a file: running one in the background, and showing the result (the
run's status, the writes it planned by action, each write's preview, a way to open
the run's page)."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.console.workflow_pages import DryRunResult
from sophmate_desktop.domain.run_account import cost_text
from sophmate_desktop.store.rows import WriteRow
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import Plural, translate
from sophmate_desktop.ui.widgets.run_prompts import call_text

PREVIEW_ROLE = Qt.ItemDataRole.UserRole + 1

_STATUS_STYLE = {
    "succeeded": "color: #2e7d32;",
    "failed": "color: #c62828;",
    "busy": "",  # the palette's text colour: readable in any theme
    "held": "color: #b26a00;",
}


class DryRunner(QObject):
    """Runs `console.dry_run_file` off the main thread; `finished(result, error)`.

    With the app's engine running this is an ordinary background task. Without one
    a temporary engine is started on a plain Python thread: engine threads started
    from a Qt pool thread would leave Python believing that pool thread runs forever
    (it registers it as a "dummy" thread that never ends).
    """

    finished = Signal(object, object)  # DryRunResult | None, BaseException | None

    def __init__(self, services: UiServices, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self._thread: threading.Thread | None = None
        self.busy = False

    def start(self, name: str, path: str | Path) -> None:
        self.busy = True
        console, engine = self.services.console, self.services.engine
        listen = self.services.events.publish

        def work() -> DryRunResult:
            return console.dry_run_file(name, path, engine=engine, listen=listen)

        if engine is not None:
            self.services.tasks.run(
                work, lambda result: self._done(result, None), lambda exc: self._done(None, exc)
            )
            return

        def body() -> None:
            result, error = None, None
            try:
                with console.thread_connection():
                    result = work()
            except BaseException as exc:  # handed to the page on the main thread
                error = exc
            self.finished.emit(result, error)

        self._thread = threading.Thread(target=body, name="sophmate-dry-run", daemon=True)
        self._thread.start()

    def _done(self, result: DryRunResult | None, error: BaseException | None) -> None:
        self.finished.emit(result, error)

    def wait(self, timeout: float = 130.0) -> bool:
        """Join the temporary engine's thread (window shutdown, tests); True if it ended."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True


class DryRunPanel(QGroupBox):
    open_run = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Dry run"), parent)
        self.setObjectName("dryRunPanel")
        self.run_id: int | None = None
        self.status = QLabel()
        self.status.setObjectName("dryRunStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.writes = QTreeWidget()
        self.writes.setObjectName("dryRunWrites")
        self.writes.setHeaderLabels(["#", self.tr("Action"), self.tr("Target"), self.tr("Summary")])
        self.writes.setRootIsDecorated(False)
        self.writes.setAlternatingRowColors(True)
        self.writes.setColumnWidth(0, 32)
        self.writes.setColumnWidth(1, 90)
        self.writes.setColumnWidth(2, 220)
        self.writes.currentItemChanged.connect(self._show_preview)
        self.preview = QPlainTextEdit()
        self.preview.setObjectName("dryRunPreview")
        self.preview.setReadOnly(True)
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.preview.setPlaceholderText(
            translate("sophmate", "Select a planned write to read its preview.")
        )
        self.open_button = QPushButton(translate("sophmate", "&Open run"))
        self.open_button.setObjectName("openDryRunButton")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self._open)
        close = QPushButton(translate("sophmate", "Close"))
        close.setObjectName("closeDryRunButton")
        close.clicked.connect(self.hide)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(close)
        buttons.addWidget(self.open_button)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.writes)
        split.addWidget(self.preview)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)

    def set_busy(self, workflow: str, file_name: str, note: str = "") -> None:
        self.run_id = None
        self.writes.clear()
        self.preview.clear()
        self.open_button.setEnabled(False)
        self._status(
            self.tr(
                "Dry run of {workflow} on {file}… (plans only; nothing is written){note}"
            ).format(workflow=workflow, file=file_name, note=note)
        )
        self.status.setStyleSheet(_STATUS_STYLE["busy"])
        self.show()

    def show_result(self, result: DryRunResult) -> None:
        run = result.run
        self.run_id = run.id
        planned = [w for w in result.writes if w.status == "planned"]
        records = (
            self.tr(", {n} affected records").format(n=run.affected_records)
            if run.affected_records
            else ""
        )
        n = len(planned)
        writes = (
            self.tr("%n planned write", "", n) if n == 1 else self.tr("%n planned writes", "", n)
        )
        text = self.tr(
            "Run {id} of {workflow} on {file}: {status} (dry run) — {writes}{by_action}{records}. "
            "Nothing was written."
        ).format(
            id=run.id,
            workflow=run.workflow,
            file=_file_name(run.trigger_path),
            status=run.status,
            writes=writes,
            by_action=by_action(planned),
            records=records,
        )
        if run.status == "held":
            text += self.tr(
                "\nHeld: a kill switch covering it is paused. The run waits; resuming "
                "the switch replays or discards it."
            )
        text += prompts_said(result.prompts)
        if run.error:
            text += self.tr("\nError: {error}").format(error=run.error)
        self._status(text)
        self.status.setStyleSheet(_STATUS_STYLE.get(run.status, ""))
        self.writes.clear()
        self.preview.clear()
        for c in result.prompts:  # what would leave the machine, first
            about = f"{c.model} about {c.about}"
            item = QTreeWidgetItem([f"p{c.seq}", "prompt", about, self.tr(c.status)])
            item.setToolTip(2, about)
            item.setData(0, PREVIEW_ROLE, call_text(c))
            self.writes.addTopLevelItem(item)
        for w in result.writes:
            item = QTreeWidgetItem([str(w.seq), w.kind, w.target, w.summary])
            item.setToolTip(2, w.target)
            item.setToolTip(3, w.preview[:2000] or w.summary)
            item.setData(0, PREVIEW_ROLE, w.preview)
            self.writes.addTopLevelItem(item)
        if self.writes.topLevelItemCount():
            self.writes.setCurrentItem(self.writes.topLevelItem(0))
        self.open_button.setEnabled(True)
        self.show()

    def show_error(self, workflow: str, message: str) -> None:
        self._status(
            self.tr("Dry run of {workflow} did not run: {message}").format(
                workflow=workflow, message=message
            )
        )
        self.status.setStyleSheet(_STATUS_STYLE["failed"])
        self.open_button.setEnabled(self.run_id is not None)
        self.show()

    def status_text(self) -> str:
        return self.status.text()

    def preview_text(self) -> str:
        return self.preview.toPlainText()

    def _show_preview(self, item: QTreeWidgetItem | None, _previous=None) -> None:
        text = item.data(0, PREVIEW_ROLE) if item is not None else ""
        self.preview.setPlainText(text or ("(no preview)" if item is not None else ""))

    def write_targets(self) -> list[str]:
        return [self.writes.topLevelItem(i).text(2) for i in range(self.writes.topLevelItemCount())]

    def _status(self, text: str) -> None:
        self.status.setText(text)

    def _open(self) -> None:
        if self.run_id is not None:
            self.open_run.emit(self.run_id)


def prompts_said(prompts) -> str:
    """ "\n3 prompts: none sent (placeholder answers); select one to read it." and the like."""
    if not prompts:
        return ""
    sent = sum(1 for c in prompts if c.status != "placeholder")
    n = len(prompts)
    what = Plural.tr("%n prompt", "", n) if n == 1 else Plural.tr("%n prompts", "", n)
    if not sent:
        return translate(
            "sophmate",
            "\n{what}: none sent (placeholder answers); select one to read what it would send.",
        ).format(what=what)
    cost = sum(c.cost for c in prompts)
    return translate("sophmate", "\n{what}: {sent} sent (dry_run_prompts), cost {cost}.").format(
        what=what, sent=sent, cost=cost_text(cost)
    )


def by_action(writes: list[WriteRow]) -> str:
    """The planned writes counted by action: " (1 copy_file, 14 send_email)"."""
    counts = Counter(w.kind for w in writes)
    if not counts:
        return ""
    return " (" + ", ".join(f"{n} {kind}" for kind, n in counts.items()) + ")"


def _file_name(path: str | None) -> str:
    if not path:
        return translate("sophmate", "no file")
    return path.replace("\\", "/").rsplit("/", 1)[-1]
