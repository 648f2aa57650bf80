"""The database rows of the fault table (bench/fault_trials/database.py), each run
once in its quick form: real CLI processes, a real lock holder, a real tmpfs. A row
that counts anything lost, doubled or unexplained fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.fault_trials import database
from bench.fault_trials.db_full_disk import database_full, output_full
from bench.fault_trials.db_tools import may_mount

pytestmark = pytest.mark.slow
CANNOT_MOUNT = may_mount()


def test_a_pause_under_a_3_s_lock_counts_down_commits_and_ctrl_c_records_nothing() -> None:
    result = database.lock_trial(3.0)(1)
    assert result.ok, result.detail
    assert result.held == 5  # committed, countdown, no raw error; Ctrl-C exit 11, nothing
    assert result.extra["release_to_commit_ms"] < 5000  # within the next attempts


def test_a_corrupt_file_is_named_by_each_command_and_restored_without_loss() -> None:
    result = database.corrupt_trial(1)
    assert result.ok, result.detail
    assert result.held == 6 and result.lost == 0
    assert result.extra["events_since_backup"] == 2  # the pause and resume after it


def test_read_only_reads_work_and_a_pause_exits_12_for_each_kind() -> None:
    result = database.read_only_trial(1)
    assert result.ok, result.detail
    assert result.held == (14 if CANNOT_MOUNT else 21)  # 7 checks per kind of read-only


@pytest.mark.skipif(CANNOT_MOUNT is not None, reason=str(CANNOT_MOUNT))
def test_an_output_folder_that_fills_fails_clearly_and_the_retries_land_once(
    tmp_path: Path,
) -> None:
    tally = output_full(tmp_path)
    assert (tally.lost, tally.doubled, tally.unexplained) == (0, 0, 0), tally.notes
    assert tally.held == 24
    assert "failed saying no space" in tally.notes[0] and " 0 failed" not in tally.notes[0]
    assert tally.cli_codes["inbox retry (space back)"] == 0


@pytest.mark.skipif(CANNOT_MOUNT is not None, reason=str(CANNOT_MOUNT))
def test_a_full_database_exits_13_for_a_pause_and_records_every_outcome_after(
    tmp_path: Path,
) -> None:
    tally = database_full(tmp_path)
    assert (tally.lost, tally.doubled, tally.unexplained) == (0, 0, 0), tally.notes
    assert tally.held == 200
    assert tally.open_while_full > 0  # the disk filled during the apply, not after it
    assert tally.cli_codes["category pause (full)"] == 13
    assert tally.cli_codes["inbox list (full)"] == 0
    assert tally.cli_codes["category pause (space back)"] == 0
