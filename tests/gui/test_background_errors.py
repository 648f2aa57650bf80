"""Errors are never lost: a background task that fails and an exception nobody caught
(on the main thread or another one) are logged with their traceback and shown in one
non-modal dialog that says where the log is; later errors are counted in it."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from sophmate_desktop.domain.errors import PolicyRefused
from sophmate_desktop.ui.error_report import TITLE


@pytest.fixture
def window(make_window, qtbot):
    window = make_window("ana")
    window.show()
    return window


def boom(text: str = "the disk is full"):
    def fail() -> None:
        raise OSError(text)

    return fail


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_failed_background_task_is_logged_and_shown(window, qtbot, caplog):
    reporter = window.error_reporter
    with qtbot.waitSignal(reporter.shown, timeout=5000):
        window.services.tasks.run(boom())  # nobody handles its failure
    box = reporter.dialog
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert box.windowTitle() == TITLE
    assert "OSError: the disk is full" in box.text()
    assert "the log on standard error (no log file is set up)" in box.informativeText()
    assert "Traceback (most recent call last)" in box.detailedText()
    assert not box.isModal() and QApplication.activeModalWidget() is None  # work goes on
    [record] = error_records(caplog)
    assert "the disk is full" in record.getMessage()
    assert isinstance(record.exc_info[1], OSError)  # logged with its traceback


def test_a_refusal_the_page_explains_is_not_a_dialog(window, qtbot, caplog):
    said: list[str] = []

    def refuse() -> None:
        raise PolicyRefused("finance is paused")

    window.services.tasks.run(refuse, on_failure=lambda exc: said.append(str(exc)))
    qtbot.waitUntil(lambda: bool(said))
    assert said == ["finance is paused"]
    assert window.error_reporter.dialog is None and not error_records(caplog)


def test_an_unexpected_error_is_shown_even_when_the_page_handles_it(window, qtbot):
    said: list[str] = []
    with qtbot.waitSignal(window.error_reporter.shown, timeout=5000):
        window.services.tasks.run(boom("no such table"), on_failure=lambda e: said.append(str(e)))
    assert said == ["no such table"]  # the page says it in place as well
    assert "no such table" in window.error_reporter.dialog.text()


def test_many_errors_make_one_dialog_that_counts_them(window, qtbot, caplog):
    reporter = window.error_reporter
    for n in range(1, 4):
        with qtbot.waitSignal(reporter.shown, timeout=5000):
            window.services.tasks.run(boom(f"failure {n}"))
    boxes = [w for w in QApplication.topLevelWidgets() if w.objectName() == "errorDialog"]
    assert boxes == [reporter.dialog]
    box = reporter.dialog
    assert "failure 1" in box.text()
    assert box.informativeText().startswith("2 more errors since; the latest: ")
    assert "failure 3" in box.informativeText()
    assert all(f"failure {n}" in box.detailedText() for n in (1, 2, 3))
    assert len(error_records(caplog)) == 3

    box.button(QMessageBox.StandardButton.Close).click()  # read, closed
    qtbot.waitUntil(lambda: reporter.dialog is None)
    with qtbot.waitSignal(reporter.shown, timeout=5000):
        window.services.tasks.run(boom("failure 4"))
    assert "failure 4" in reporter.dialog.text()
    assert "more error" not in reporter.dialog.informativeText()


def test_the_dialog_names_the_log_file_when_there_is_one(window, qtbot, tmp_path: Path):
    log_file = tmp_path / "sophmate.log"
    handler = logging.FileHandler(log_file)
    logging.getLogger("sophmate_desktop").addHandler(handler)
    try:
        with qtbot.waitSignal(window.error_reporter.shown, timeout=5000):
            window.services.tasks.run(boom())
    finally:
        logging.getLogger("sophmate_desktop").removeHandler(handler)
        handler.close()
    assert f"The details are in the log file: {log_file}" in window.error_reporter.text()
    assert "OSError: the disk is full" in log_file.read_text()


def test_an_uncaught_exception_in_a_slot_is_logged_and_shown(make_window, qtbot, caplog):
    def broken_slot() -> None:
        raise KeyError("no column 'amount'")

    # The hook the window replaces (pytest-qt's here) still hears of the exception.
    with qtbot.capture_exceptions() as caught:
        window = make_window("ana")
        window.show()
        with qtbot.waitSignal(window.error_reporter.shown, timeout=5000):
            QTimer.singleShot(0, broken_slot)
    assert [type(e[1]) for e in caught] == [KeyError]
    assert "KeyError: \"no column 'amount'\"" in window.error_reporter.dialog.text()
    [record] = error_records(caplog)
    assert record.getMessage().startswith("uncaught exception")
    assert record.exc_info[0] is KeyError


def test_an_uncaught_exception_in_another_thread_is_shown_on_the_main_thread(
    make_window, qtbot, caplog, monkeypatch
):
    seen: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_value))
    window = make_window("ana")
    window.show()

    def worker() -> None:
        raise RuntimeError("watcher crashed")

    with qtbot.waitSignal(window.error_reporter.shown, timeout=5000):
        thread = threading.Thread(target=worker, name="folder-watch")
        thread.start()
        thread.join()
    assert "RuntimeError: watcher crashed (in thread folder-watch)" in (
        window.error_reporter.dialog.text()
    )
    assert [str(e) for e in seen] == ["watcher crashed"]  # the earlier hook still hears
    [record] = error_records(caplog)
    assert "folder-watch" in record.getMessage() and record.exc_info[0] is RuntimeError


def test_the_hooks_are_the_windows_only_while_it_runs(make_window, monkeypatch):
    def earlier_hook(*_args) -> None:
        pass

    def earlier_thread_hook(_args) -> None:
        pass

    monkeypatch.setattr(sys, "excepthook", earlier_hook)
    monkeypatch.setattr(threading, "excepthook", earlier_thread_hook)
    window = make_window("ana")
    assert window.error_reporter.installed
    assert sys.excepthook is not earlier_hook
    assert threading.excepthook is not earlier_thread_hook
    window.quit()
    assert not window.error_reporter.installed
    assert sys.excepthook is earlier_hook
    assert threading.excepthook is earlier_thread_hook
