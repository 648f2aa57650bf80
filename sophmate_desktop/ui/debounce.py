"""One refresh per burst of events: the single-shot timer every view uses.

A view calls `poke()` on each event that concerns it; the slot runs once, `interval`
ms after the first poke of a burst. The timer is not restarted by later pokes, so a
steady stream of events (a file burst, a bulk decision) still refreshes every
`interval` ms instead of leaving the view stale until the stream ends.

`restart_on_poke=True` is the other kind: the slot runs `interval` ms after the LAST
poke (validate after typing stops), for input a person is still producing.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

DEBOUNCE_MS = 150


class Debouncer(QObject):
    def __init__(
        self,
        parent: QObject,
        slot: Callable[[], None],
        interval: int = DEBOUNCE_MS,
        *,
        restart_on_poke: bool = False,
    ) -> None:
        super().__init__(parent)
        self.restart_on_poke = restart_on_poke
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval)
        self._timer.timeout.connect(slot)

    def poke(self) -> None:
        """Something changed: run the slot soon (see the module's docstring for when)."""
        if self.restart_on_poke or not self._timer.isActive():
            self._timer.start()

    def cancel(self) -> None:
        """Forget a pending run (the caller refreshes now, or is closing)."""
        self._timer.stop()

    @property
    def pending(self) -> bool:
        """A run of the slot is scheduled."""
        return self._timer.isActive()

    @property
    def interval(self) -> int:
        return self._timer.interval()
