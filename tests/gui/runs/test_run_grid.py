"""The grid of runs over time: a row per workflow, a square per run coloured by its
status (newest right), the last failure's error inline, a click opens the run."""

from __future__ import annotations

from PySide6.QtCore import Qt

from sophmate_desktop.console.run_grid import GRID_RUNS
from sophmate_desktop.ui.widgets.run_columns import GREEN, RED
from sophmate_desktop.ui.widgets.run_grid import RUN_ROLE, cell_colour


def test_the_grid_shows_each_run_and_opens_it(qtbot, page, runs, services):
    grid_rows = services.console.run_grid()
    assert [r.workflow for r in grid_rows] == ["invoice-intake"]
    assert [c.run_id for c in grid_rows[0].cells] == [runs.succeeded, runs.failed, runs.waiting]
    assert grid_rows[0].last_failure.error == "input file is not valid text"

    page.views.setCurrentWidget(page.grid)
    grid = page.grid
    assert grid.rowCount() == 1 and grid.item(0, 0).text() == "invoice-intake"
    squares = [grid.item(0, c) for c in range(GRID_RUNS - 2, GRID_RUNS + 1)]
    assert [s.data(RUN_ROLE) for s in squares] == [runs.succeeded, runs.failed, runs.waiting]
    assert squares[0].background().color() == GREEN
    assert squares[1].background().color() == RED
    assert squares[2].background().color() == cell_colour("awaiting_approval")
    assert grid.item(0, 1).data(RUN_ROLE) is None  # fewer runs than squares: empty left
    assert "input file is not valid text" in squares[1].toolTip()
    last = grid.item(0, GRID_RUNS + 1)
    assert last.text() == f"run {runs.failed}: input file is not valid text"

    rect = grid.visualItemRect(squares[1])
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert page.stack.currentWidget() is page.panel
    assert page.panel.run_id == runs.failed
    qtbot.mouseClick(page.panel.back_button, Qt.MouseButton.LeftButton)
    assert page.views.currentWidget() is page.grid  # back where it was opened
