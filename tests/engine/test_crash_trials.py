"""The crash rows of the fault table (bench/fault_trials/crashes.py), in quick form:
real engine processes killed with SIGKILL on a temporary SQLite database."""

from __future__ import annotations

import pytest

from bench.fault_trials import crashes
from sophmate_desktop.engine.actions.launcher import supervises

pytestmark = pytest.mark.skipif(not supervises(), reason="Linux: the supervisor and /proc")


def test_kill_9_at_random_points_loses_doubles_and_leaves_nothing() -> None:
    result = crashes.kill_at_random_points(3, seed=3)
    assert result.ok, result
    assert result.held > 3, result  # file versions, CSV runs and writes were checked
    assert "audit verify: audit trail intact" in result.detail, result.detail


def test_a_reused_pid_is_judged_dead_and_never_killed() -> None:
    result = crashes.reused_pid(1)
    assert result.ok and result.held == 1, result
    assert result.extra["unrelated_killed"] == 0


def test_no_command_process_outlives_a_killed_engine() -> None:
    result = crashes.orphaned_commands(2)  # one engine killed alone, one with its supervisor
    assert result.ok and result.held == 2, result
    assert result.extra["left"] == 0
