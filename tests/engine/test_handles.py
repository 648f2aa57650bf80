"""Who records the end of a write whose command a pause killed: the monitor's batch or
the write's own thread, never both (engine/handles.py)."""

from __future__ import annotations

from sophmate_desktop.engine.handles import InFlight


def _write() -> InFlight:
    return InFlight("write", 7, "sleepers", "finance", ())


def test_the_first_to_ask_records_the_end():
    item = _write()
    assert item.take_finish("monitor")
    assert item.take_finish("monitor")  # the same batch asking again
    assert not item.take_finish("thread")


def test_a_monitor_batch_that_left_the_write_hands_it_to_its_thread_for_good():
    # The batch could not confirm the command dead (not reaped in time): the write's
    # thread records it. A second pass of the monitor over the same pause must leave it
    # alone, or the write is finished and announced twice.
    item = _write()
    assert item.take_finish("monitor")
    item.end_finish(False)
    assert item.finish_done.is_set() and not item.finished_by_monitor
    assert not item.take_finish("monitor")
    assert item.take_finish("thread")


def test_a_write_the_monitor_recorded_stays_the_monitors():
    item = _write()
    assert item.take_finish("monitor")
    item.end_finish(True)
    assert item.finished_by_monitor
    assert not item.take_finish("thread")


def test_a_second_monitor_pass_leaves_a_write_the_first_recorded():
    # The first pass recorded and announced it; a second pass over the same pause found
    # it still in flight. Taking it again recorded nothing, handed the end to the thread,
    # and the thread announced the write a second time (CI, test_engine_fast_paths).
    item = _write()
    assert item.take_finish("monitor")
    item.end_finish(True)
    assert not item.take_finish("monitor")
    assert item.finished_by_monitor and item.finisher == "monitor"
