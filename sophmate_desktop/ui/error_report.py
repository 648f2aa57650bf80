"""Errors a person must hear of: logged with their traceback and shown in a dialog.

The window installs `sys.excepthook` and `threading.excepthook` for its lifetime
(`install()` / `uninstall()`, which restores what was there before) and connects the
task runner's `task_failed`. The dialog is not modal and there is at most one: later
errors are counted in it and appended to its details instead of stacking up boxes.
A hook that was installed before ours (a test runner's, say) still sees the error.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
from types import TracebackType
from typing import Any

import shiboken6
from PySide6.QtCore import QT_TRANSLATE_NOOP, QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from sophmate_desktop.ui.translation import translate

log = logging.getLogger(__name__)

TITLE = QT_TRANSLATE_NOOP("sophmate", "SophMate Desktop — error")


def log_destination() -> str | None:
    """The file the log is written to, or None when it only goes to standard error."""
    for logger in (logging.getLogger("sophmate_desktop"), logging.getLogger()):
        for handler in logger.handlers:
            if isinstance(handler, logging.FileHandler) and handler.baseFilename != os.devnull:
                return handler.baseFilename
    return None


def where_the_log_is() -> str:
    path = log_destination()
    if path:
        return translate("sophmate", "The details are in the log file: {path}").format(path=path)
    return translate(
        "sophmate", "The details went to the log on standard error (no log file is set up)."
    )


def _summary(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _details(error: BaseException) -> str:
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))


class ErrorReporter(QObject):
    shown = Signal(str)  # what the dialog says now
    _arrived = Signal(str, str)  # summary, details: from any thread to the main thread

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._box: QMessageBox | None = None
        self._first = ""
        self._later: list[str] = []
        self._details: list[str] = []
        self._previous_hook: Any = None
        self._previous_thread_hook: Any = None
        self._installed = False
        self._arrived.connect(self._show)

    # Hooks ---------------------------------------------------------------

    def install(self) -> None:
        if self._installed:
            return
        self._installed = True
        self._previous_hook = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        sys.excepthook = self._excepthook
        threading.excepthook = self._thread_excepthook

    def uninstall(self) -> None:
        """Put the hooks back as they were (unless someone replaced ours meanwhile)."""
        if not self._installed:
            return
        self._installed = False
        if sys.excepthook == self._excepthook:
            sys.excepthook = self._previous_hook
        if threading.excepthook == self._thread_excepthook:
            threading.excepthook = self._previous_thread_hook

    @property
    def installed(self) -> bool:
        return self._installed

    def _excepthook(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        previous = self._previous_hook or sys.__excepthook__
        if issubclass(exc_type, KeyboardInterrupt) or not shiboken6.isValid(self):
            previous(exc_type, exc, tb)  # (the window went without shutting down)
            return
        log.error("uncaught exception: %s", _summary(exc), exc_info=(exc_type, exc, tb))
        self._arrived.emit(_summary(exc), "".join(traceback.format_exception(exc_type, exc, tb)))
        if previous is not sys.__excepthook__:  # the default would print it a second time
            previous(exc_type, exc, tb)

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        previous = self._previous_thread_hook or threading.__excepthook__
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        if not shiboken6.isValid(self):
            previous(args)
            return
        name = args.thread.name if args.thread is not None else "?"
        info = (args.exc_type, args.exc_value, args.exc_traceback)
        summary = _summary(args.exc_value)
        log.error("uncaught exception in thread %s: %s", name, summary, exc_info=info)
        details = "".join(traceback.format_exception(*info))
        self._arrived.emit(f"{summary} (in thread {name})", details)
        if previous is not threading.__excepthook__:  # the default would print it again
            previous(args)

    # Showing -------------------------------------------------------------

    def task_failed(self, what: str, error: BaseException) -> None:
        """A background task failed (the task runner has logged it already)."""
        self._arrived.emit(f"{what}: {_summary(error)}", _details(error))

    @property
    def dialog(self) -> QMessageBox | None:
        """The open error dialog, if any."""
        return self._box

    def _show(self, summary: str, details: str) -> None:
        if self._box is None:
            self._first, self._later, self._details = summary, [], [details]
            self._box = self._new_box()
        else:
            self._later.append(summary)
            self._details.append(details)
        box = self._box
        box.setText(self.tr("Something went wrong: {first}").format(first=self._first))
        more = ""
        if self._later:
            n = len(self._later)
            more = (
                self.tr("%n more error since; the latest: {latest}", "", n)
                if n == 1
                else self.tr("%n more errors since; the latest: {latest}", "", n)
            ).format(latest=self._later[-1]) + "\n\n"
        box.setInformativeText(more + where_the_log_is())
        box.setDetailedText("\n".join(self._details))
        if not box.isVisible():
            box.show()
        self.shown.emit(self.text())

    def text(self) -> str:
        """Everything the open dialog says (empty when none is open)."""
        if self._box is None:
            return ""
        return f"{self._box.text()}\n{self._box.informativeText()}"

    def _new_box(self) -> QMessageBox:
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            translate("sophmate", TITLE),
            "",
            QMessageBox.StandardButton.Close,
            self._window,
        )
        box.setObjectName("errorDialog")
        # Not modal: the person keeps working (and a test is never blocked by it).
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.finished.connect(lambda _result, b=box: self._closed(b))
        return box

    def _closed(self, box: QMessageBox) -> None:
        if self._box is box:
            self._box = None
        box.deleteLater()

    def close(self) -> None:
        """Close the dialog (the window is going away)."""
        box = self._box
        if box is not None:
            box.close()
            self._closed(box)
