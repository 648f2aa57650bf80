"""Quitting while work is in flight asks first and says what is in flight: Cancel
keeps the engine running; Quit anyway stops it (the running command is killed)."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from sophmate_desktop.console import Console
from tests.support.journeys.j2 import WAIT_MS, command_step, staged, workflow_file

SLEEPER = command_step([sys.executable, "-c", "import time; time.sleep(60)"])


def _a_command_applying(qtbot, window, tmp_path):
    lead = Console(window.services.console.db, actor="lead")
    lead.events.subscribe(window.services.engine.wake)
    lead.import_workflow(workflow_file("cleanup", "maintenance", tmp_path, SLEEPER))
    sample = tmp_path / "sample.txt"
    sample.write_text("x")
    staged(lead, window, "cleanup", sample)
    engine = window.services.engine
    run_id = engine.run_now("cleanup", None)
    assert engine.wait_for_run(run_id, 10) == "awaiting_approval"
    [write] = lead.run_writes(run_id)
    [decision] = lead.approve([write.id])
    assert decision.ok, decision.message
    qtbot.waitUntil(lambda: any(f.processes for f in engine.inflight.snapshot()), timeout=WAIT_MS)
    [process] = [p for f in engine.inflight.snapshot() for p in f.processes]
    return lead, write.id, process


def test_quit_with_a_write_applying_asks_first(qtbot, make_window, tmp_path):
    window = make_window("ana", start_engine=True)
    window.tray.available = True
    window.show()
    qtbot.waitExposed(window)
    lead, write_id, process = _a_command_applying(qtbot, window, tmp_path)

    window.quit_action.trigger()  # Ctrl+Q, File > Quit and the tray's Quit alike
    qtbot.waitUntil(lambda: window.quit_dialog is not None and window.quit_dialog.isVisible())
    dialog = window.quit_dialog
    text = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert "Quit now? 1 write applying." in text
    assert "its write waits in the Inbox as interrupted" in text
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # Cancel: nothing stops
    qtbot.waitUntil(lambda: window.quit_dialog is None)
    assert window.services.engine.started and process.poll() is None
    assert window.isVisible()

    window.quit_action.trigger()
    qtbot.waitUntil(lambda: window.quit_dialog is not None and window.quit_dialog.isVisible())
    with qtbot.waitSignal(window.quit_requested, timeout=WAIT_MS):
        qtbot.mouseClick(window.quit_dialog.ok_button, Qt.MouseButton.LeftButton)
    assert not window.services.engine.started
    assert process.poll() is not None  # the running command was killed
    write = lead.get_write(write_id)
    assert write.status == "interrupted"  # what the dialog said
    assert write.id in [w.id for w in lead.list_inbox()]


def test_quit_with_nothing_in_flight_asks_nothing(qtbot, make_window):
    window = make_window("ana", start_engine=True)
    window.tray.available = True
    with qtbot.waitSignal(window.quit_requested, timeout=WAIT_MS):
        window.quit_action.trigger()
    assert window.quit_dialog is None and not window.services.engine.started
