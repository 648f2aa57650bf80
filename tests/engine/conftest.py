"""Engine fixtures: engines that always stop, and a console over SQLite only (the
helpers these tests share are in tests/support/engine.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from sophmate_desktop.engine.service import Engine
from tests.support.engine import engine_threads, wait_until


@pytest.fixture
def make_engine() -> Iterator[Callable[..., Engine]]:
    """make_engine(db, console=None, **kw): a started Engine, stopped at teardown."""
    engines: list[Engine] = []

    def make(db, console=None, **kw) -> Engine:
        kw.setdefault("workers", 2)
        kw.setdefault("tick_s", 0.05)
        engine = Engine(db, **kw)
        if console is not None:
            console.events.subscribe(engine.wake)
        engines.append(engine)
        engine.start()
        return engine

    yield make
    for engine in engines:
        engine.stop()
    wait_until(lambda: not engine_threads(), 10, "engine threads to end")


@pytest.fixture
def sconsole(sqlite_db):
    """A console over the SQLite database only (`console` is parametrized over both)."""
    from sophmate_desktop.console import Console

    return Console(sqlite_db, actor="ana")
