"""The database's quick check, when the window opened without it: it runs in the
background (seconds on a big history), the status bar says so, the engine starts
once it passed, and a file that fails it is named with its backup."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMainWindow, QMessageBox

from sophmate_desktop.domain.errors import DatabaseCorrupt
from sophmate_desktop.store.integrity import PendingCheck


class DatabaseCheck(QObject):
    """Runs a PendingCheck on its own thread; says the outcome on the main thread."""

    check_passed = Signal(float)  # seconds it took
    check_failed = Signal(str)  # what is wrong and how to restore
    _finished = Signal(object)  # from the check's thread

    def __init__(self, pending: PendingCheck, window: QMainWindow) -> None:
        super().__init__(window)
        self.pending = pending
        self.window = window
        self.failure_box: QMessageBox | None = None
        self._finished.connect(self._deliver)

    def start(self, then: Callable[[], None] | None = None) -> None:
        """Check in the background; `then()` once it passed (e.g. start the engine)."""
        if then is not None:
            self.check_passed.connect(lambda _s: then())
        self.window.statusBar().showMessage(
            self.tr("Checking the database… changes wait until the check has passed")
        )
        self.pending.run_in_thread(self._finished.emit)

    def stop(self) -> None:
        """Interrupt a check still running and wait for its thread (the window closes)."""
        self.pending.cancel()

    def _deliver(self, error: DatabaseCorrupt | None) -> None:
        bar = self.window.statusBar()
        if error is None:
            seconds = self.pending.seconds
            bar.showMessage(self.tr("Database checked in %.1f s") % seconds, 5000)
            self.check_passed.emit(seconds)
            return
        text = str(error)
        bar.showMessage(self.tr("The database failed its check: changes are refused"))
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            self.tr("The database is damaged"),
            self.tr("%s\n\nThe window stays open for reading; nothing will be changed.")
            % text,
            QMessageBox.StandardButton.Ok,
            self.window,
        )
        box.setObjectName("databaseCheckFailed")
        self.failure_box = box
        box.open()
        self.check_failed.emit(text)
