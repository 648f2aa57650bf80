"""A pause that waits for a busy database, in the background, with Cancel.

The panel tries the pause once on the main thread with a short lock wait; when
another process holds the database, `BusyPause` keeps trying on a task thread
(store/busy.py) and the dialog says "Waiting for the database… N s" until the pause
commits or the person presses Cancel (then nothing is recorded, and the panel says so).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal

from sophmate_desktop.store.busy import BusyWait
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.switch_dialogs import SwitchDialog

FIRST_TRY_S = 0.3  # the main thread waits this long for the lock, then hands over


def first_try() -> BusyWait:
    """One short attempt: a busy database raises DatabaseBusy at once."""
    return BusyWait(cancelled=lambda: True, attempt_s=FIRST_TRY_S)


def waiting_text(seconds: float) -> str:
    return translate(
        "sophmate",
        "Waiting for the database (locked by another process)… {seconds} s. "
        "The pause is recorded as soon as it is free; Cancel gives up (nothing recorded).",
    ).format(seconds=f"{seconds:.0f}")


class BusyPause(QObject):
    waited = Signal(float)  # seconds waited so far, after each failed attempt

    def __init__(self, services: UiServices, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self._cancelled = threading.Event()
        self.waiting = False

    def start(
        self,
        dialog: SwitchDialog,
        work: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[BaseException], None],
    ) -> None:
        self._cancelled.clear()
        self.waiting = True
        dialog.show_error(waiting_text(0))
        dialog.set_busy(True)  # OK stays off while it waits: one wait at a time; Cancel works

        def show(seconds: float) -> None:
            if shiboken6.isValid(dialog):
                dialog.error_label.setText(waiting_text(seconds))

        self.waited.connect(show)
        dialog.finished.connect(lambda _r: self._cancelled.set())
        wait = BusyWait(waited=self.waited.emit, cancelled=self._cancelled.is_set)
        console = self.services.console

        def ended(callback: Callable[[Any], None]) -> Callable[[Any], None]:
            def call(value: Any) -> None:
                self.waiting = False
                self.waited.disconnect(show)
                callback(value)

            return call

        def not_recorded(exc: BaseException) -> None:
            if shiboken6.isValid(dialog) and dialog.isVisible():  # not cancelled: say why
                dialog.show_error(
                    translate("sophmate", "The pause was NOT recorded: {exc}").format(exc=exc)
                )
            failed(exc)

        self.services.tasks.run(
            lambda: console.through_busy(work, wait),
            ended(done),
            ended(not_recorded),
            report=False,
        )

    def cancel(self) -> None:
        self._cancelled.set()
