"""The audit rows of the fault table (bench/fault_trials/audit.py), each run once:
databases of real events made by real CLI processes, tampered with sqlite3, judged by
`audit verify` in a real process. A tampering verify misses or names wrongly, or a
false alarm on the untouched control, fails here."""

from __future__ import annotations

import pytest

from bench.fault_trials import Trial, audit

pytestmark = pytest.mark.slow
ROWS = {trial.name: trial for trial in audit.TRIALS}


def test_every_kind_of_tampering_has_its_row() -> None:
    assert set(ROWS) == {
        "audit truncation",
        "audit rollback",
        "audit recomputed chain",
        "audit forged event",
        "audit state changed by direct SQL",
    }


@pytest.mark.parametrize("name", sorted(ROWS))
def test_the_tampering_is_found_and_named_and_the_control_is_intact(name: str) -> None:
    trial: Trial = ROWS[name]
    result = trial.run(1)
    assert result.ok, result.detail
    assert (result.held, result.unexplained) == (2, 0)  # the tampered one and the control
