"""The one debouncer every view uses: a burst gives one refresh, a steady stream of
events still refreshes about every interval, and the editor's kind waits for quiet."""

from __future__ import annotations

import itertools
import time

import pytest
from PySide6.QtCore import QObject, QTimer

from sophmate_desktop.ui.debounce import Debouncer

INTERVAL = 100
POKE_EVERY = 10  # ms between events of a steady stream: far more often than INTERVAL


class Calls:
    def __init__(self) -> None:
        self.at: list[float] = []

    def __call__(self) -> None:
        self.at.append(time.monotonic())


@pytest.fixture
def owner(qtbot):
    parent = QObject()
    yield parent
    parent.deleteLater()


def stream(qtbot, debouncer: Debouncer, duration_ms: int) -> tuple[float, float]:
    """Poke every POKE_EVERY ms for `duration_ms`; returns (first poke, last poke) times."""
    pokes: list[float] = []
    ticker = QTimer()
    ticker.setInterval(POKE_EVERY)

    def tick() -> None:
        pokes.append(time.monotonic())
        debouncer.poke()

    ticker.timeout.connect(tick)
    tick()
    ticker.start()
    end = pokes[0] + duration_ms / 1000
    qtbot.waitUntil(lambda: time.monotonic() >= end, timeout=duration_ms + 5_000)
    ticker.stop()
    return pokes[0], pokes[-1]


def test_a_burst_of_pokes_runs_the_slot_once(qtbot, owner):
    calls = Calls()
    debouncer = Debouncer(owner, calls, INTERVAL)
    for _ in range(500):
        debouncer.poke()
    assert debouncer.pending
    qtbot.waitUntil(lambda: len(calls.at) == 1, timeout=2_000)
    qtbot.wait(3 * INTERVAL)
    assert len(calls.at) == 1 and not debouncer.pending


def test_continuous_pokes_still_refresh_within_about_the_interval(qtbot, owner):
    calls = Calls()
    debouncer = Debouncer(owner, calls, INTERVAL)
    first_poke, last_poke = stream(qtbot, debouncer, duration_ms=12 * INTERVAL)

    during = [t for t in calls.at if t <= last_poke]
    # A restarting timer would not have run once while the stream lasted.
    assert len(during) >= 4, f"only {len(during)} refreshes during a {12 * INTERVAL} ms stream"
    assert first_poke < during[0]
    # One refresh per interval at most: a timer already running is not started again.
    # (How soon the first comes and the largest gap: python -m bench.responsiveness.)
    gaps = [b - a for a, b in itertools.pairwise(during)]
    assert min(gaps) >= (INTERVAL - 20) / 1000, gaps
    # The last events are not lost: a refresh follows the end of the stream.
    qtbot.waitUntil(lambda: calls.at[-1] > last_poke, timeout=2_000)


def test_restart_on_poke_waits_until_the_pokes_stop(qtbot, owner):
    calls = Calls()
    debouncer = Debouncer(owner, calls, INTERVAL, restart_on_poke=True)
    _first, last_poke = stream(qtbot, debouncer, duration_ms=6 * INTERVAL)
    assert calls.at == []  # typing goes on: no validation yet
    qtbot.waitUntil(lambda: len(calls.at) == 1, timeout=2_000)
    assert calls.at[0] - last_poke >= (INTERVAL - 20) / 1000
    qtbot.wait(2 * INTERVAL)
    assert len(calls.at) == 1


def test_cancel_forgets_a_pending_run(qtbot, owner):
    calls = Calls()
    debouncer = Debouncer(owner, calls, INTERVAL)
    debouncer.poke()
    debouncer.cancel()
    assert not debouncer.pending
    qtbot.wait(3 * INTERVAL)
    assert calls.at == []
    debouncer.poke()  # usable again afterwards
    qtbot.waitUntil(lambda: len(calls.at) == 1, timeout=2_000)
