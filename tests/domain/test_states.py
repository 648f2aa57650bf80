"""The run, write and stage state machines: tables, checks, outcomes."""

from __future__ import annotations

import itertools
from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from sophmate_desktop.domain.enums import RunStatus, Stage, WriteStatus
from sophmate_desktop.domain.errors import IllegalTransition, SophmateError
from sophmate_desktop.domain.states import (
    RUN_OPEN_WRITE_STATUSES,
    RUN_TRANSITIONS,
    STAGE_TRANSITIONS,
    TERMINAL_RUN_STATUSES,
    TERMINAL_WRITE_STATUSES,
    WRITE_TRANSITIONS,
    check_run,
    check_stage,
    check_write,
    is_terminal_run,
    is_terminal_write,
    run_outcome,
)

R, W, S = RunStatus, WriteStatus, Stage

# The tables as DESIGN.md section 3 and the brief spell them out, edge by edge.
EXPECTED_RUN_EDGES = {
    (None, R.QUEUED),
    (None, R.HELD),
    (R.QUEUED, R.RUNNING),
    (R.QUEUED, R.HELD),
    (R.QUEUED, R.CANCELLED),
    (R.HELD, R.QUEUED),
    (R.HELD, R.CANCELLED),
    (R.RUNNING, R.AWAITING_APPROVAL),
    (R.RUNNING, R.APPLYING),
    (R.RUNNING, R.SUCCEEDED),
    (R.RUNNING, R.FAILED),
    (R.RUNNING, R.CANCELLED),
    (R.RUNNING, R.QUEUED),
    (R.AWAITING_APPROVAL, R.APPLYING),
    (R.AWAITING_APPROVAL, R.SUCCEEDED),
    (R.AWAITING_APPROVAL, R.FAILED),
    (R.AWAITING_APPROVAL, R.REJECTED),
    (R.AWAITING_APPROVAL, R.CANCELLED),
    (R.APPLYING, R.AWAITING_APPROVAL),
    (R.APPLYING, R.SUCCEEDED),
    (R.APPLYING, R.FAILED),
    (R.APPLYING, R.CANCELLED),
    (R.FAILED, R.QUEUED),
}
EXPECTED_WRITE_EDGES = {
    (None, W.PLANNED),
    (None, W.PENDING),
    (None, W.APPROVED),
    (W.PENDING, W.APPROVED),
    (W.PENDING, W.REJECTED),
    (W.PENDING, W.CANCELLED),
    (W.PENDING, W.EXPIRED),
    (W.APPROVED, W.APPLYING),
    (W.APPROVED, W.CANCELLED),
    (W.APPLYING, W.APPLIED),
    (W.APPLYING, W.FAILED),
    (W.APPLYING, W.INTERRUPTED),
    (W.APPLYING, W.APPROVED),
    (W.APPLYING, W.STALE),
    (W.INTERRUPTED, W.APPLIED),
    (W.INTERRUPTED, W.APPROVED),
    (W.INTERRUPTED, W.CANCELLED),
    (W.FAILED, W.APPROVED),
    (W.FAILED, W.CANCELLED),
}
EXPECTED_STAGE_EDGES = {
    (S.DRY_RUN, S.STAGING),
    (S.STAGING, S.PRODUCTION),
    (S.STAGING, S.DRY_RUN),
    (S.PRODUCTION, S.STAGING),
    (S.PRODUCTION, S.DRY_RUN),
}

MACHINES = [
    ("run", RunStatus, RUN_TRANSITIONS, check_run, EXPECTED_RUN_EDGES, True),
    ("write", WriteStatus, WRITE_TRANSITIONS, check_write, EXPECTED_WRITE_EDGES, True),
    ("stage", Stage, STAGE_TRANSITIONS, check_stage, EXPECTED_STAGE_EDGES, False),
]
over_machines = pytest.mark.parametrize(
    ("name", "enum", "table", "check", "expected", "has_none"),
    MACHINES,
    ids=[m[0] for m in MACHINES],
)


def edges(table):
    return {(old, new) for old, targets in table.items() for new in targets}


@over_machines
def test_table_has_exactly_the_designed_edges(name, enum, table, check, expected, has_none):
    assert edges(table) == expected
    keys = set(enum) | ({None} if has_none else set())
    assert set(table) == keys, "every state (and creation) has a row, terminal ones empty"


@over_machines
def test_check_accepts_every_edge_and_refuses_every_other_pair(
    name, enum, table, check, expected, has_none
):
    olds = [None, *enum]
    for old, new in itertools.product(olds, enum):
        if (old, new) in expected:
            result = check(old, new)
            assert result is new
            assert isinstance(result, enum)
        else:
            with pytest.raises(IllegalTransition) as info:
                check(old, new)
            assert info.value.machine == name
            assert info.value.old == (None if old is None else str(old))
            assert info.value.new == str(new)


def test_illegal_transition_message_names_machine_and_states():
    with pytest.raises(IllegalTransition, match=r"run: illegal transition 'succeeded' -> 'queued'"):
        check_run(R.SUCCEEDED, R.QUEUED)
    with pytest.raises(SophmateError):
        check_write(W.APPLIED, W.APPROVED)


def test_check_accepts_stored_strings_and_returns_members():
    assert check_run("queued", "running") is R.RUNNING
    assert check_run(None, "held") is R.HELD
    assert check_write("interrupted", "applied") is W.APPLIED
    assert check_stage("staging", "production") is S.PRODUCTION


@pytest.mark.parametrize(
    ("check", "old", "new"),
    [
        (check_run, "queued", "bogus"),
        (check_run, "bogus", "queued"),
        (check_run, "", "queued"),
        (check_write, "pending", "done"),
        (check_write, "pending", "planned"),
        (check_stage, "testing", "staging"),
        (check_stage, None, "dry_run"),
        (check_stage, "dry_run", "dry_run"),
        (check_run, "queued", "queued"),
    ],
)
def test_check_refuses_unknown_or_self_moves(check, old, new):
    with pytest.raises(IllegalTransition):
        check(old, new)


def test_terminal_sets():
    assert {R.SUCCEEDED, R.REJECTED, R.CANCELLED} == TERMINAL_RUN_STATUSES
    assert {
        W.APPLIED,
        W.REJECTED,
        W.CANCELLED,
        W.EXPIRED,
        W.PLANNED,
        W.STALE,
    } == TERMINAL_WRITE_STATUSES
    for s in RunStatus:
        assert is_terminal_run(s) is (s in TERMINAL_RUN_STATUSES)
        assert is_terminal_run(str(s)) is (s in TERMINAL_RUN_STATUSES)
    for s in WriteStatus:
        assert is_terminal_write(s) is (s in TERMINAL_WRITE_STATUSES)
    assert not is_terminal_run(R.FAILED), "a failed run can be retried by hand"
    assert not is_terminal_write(W.INTERRUPTED), "an interrupted write waits for a person"
    assert not is_terminal_run("bogus")


def test_open_write_statuses():
    assert {W.PENDING, W.APPROVED, W.APPLYING, W.INTERRUPTED} == RUN_OPEN_WRITE_STATUSES
    assert not (RUN_OPEN_WRITE_STATUSES & TERMINAL_WRITE_STATUSES)


def test_interrupted_write_is_only_left_by_a_person_decision():
    # Nothing automatic (the engine re-applying it) may take it back to applying.
    with pytest.raises(IllegalTransition):
        check_write(W.INTERRUPTED, W.APPLYING)
    assert check_write(W.INTERRUPTED, W.APPROVED) is W.APPROVED


def test_planned_write_is_never_applied():
    for new in WriteStatus:
        with pytest.raises(IllegalTransition):
            check_write(W.PLANNED, new)


def _reachable(table, start):
    seen, todo = {start}, deque([start])
    while todo:
        for nxt in table[todo.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


@over_machines
def test_every_state_reachable_and_every_state_can_finish(
    name, enum, table, check, expected, has_none
):
    start = None if has_none else S.DRY_RUN
    assert _reachable(table, start) - {None} == set(enum)
    if has_none:
        terminal = {s for s in enum if not table[s]}
        for state in enum:
            assert _reachable(table, state) & terminal, f"{state} can never finish"


# --- random sequences -------------------------------------------------------------------


@over_machines
def test_random_attempts_follow_the_table(name, enum, table, check, expected, has_none):
    @given(st.lists(st.sampled_from(list(enum)), max_size=40))
    def run(attempts):
        state = None if has_none else S.DRY_RUN
        for new in attempts:
            terminal = state is not None and not table[state]
            try:
                result = check(state, new)
            except IllegalTransition:
                assert (state, new) not in expected
                continue
            assert not terminal, "a terminal state accepted a move"
            assert (state, new) in expected
            assert isinstance(result, enum)
            state = result
        assert state is None or state in set(enum)

    run()


class _Machine(RuleBasedStateMachine):
    enum: type
    table: dict
    check = staticmethod(check_run)
    start = None

    def __init__(self) -> None:
        super().__init__()
        self.state = self.start
        self.history: list = []

    @rule(data=st.data())
    def attempt(self, data):
        new = data.draw(st.sampled_from(list(self.enum)))
        allowed = self.table[self.state]
        try:
            result = type(self).check(self.state, new)
        except IllegalTransition:
            assert new not in allowed
            return
        assert new in allowed
        self.history.append((self.state, result))
        self.state = result

    @rule(data=st.data())
    def attempt_raw_string(self, data):
        raw = data.draw(st.text(max_size=12))
        try:
            result = type(self).check(self.state, raw)
        except IllegalTransition:
            return
        assert result in self.table[self.state]
        self.state = result

    @invariant()
    def state_is_known(self):
        assert self.state is self.start or self.state in set(self.enum)

    @invariant()
    def terminal_accepts_nothing(self):
        if self.state is not None and not self.table[self.state]:
            for new in self.enum:
                with pytest.raises(IllegalTransition):
                    type(self).check(self.state, new)


class RunMachine(_Machine):
    enum = RunStatus
    table = RUN_TRANSITIONS
    check = staticmethod(check_run)


class WriteMachine(_Machine):
    enum = WriteStatus
    table = WRITE_TRANSITIONS
    check = staticmethod(check_write)


class StageMachine(_Machine):
    enum = Stage
    table = STAGE_TRANSITIONS
    check = staticmethod(check_stage)
    start = Stage.DRY_RUN


TestRunMachine = RunMachine.TestCase
TestWriteMachine = WriteMachine.TestCase
TestStageMachine = StageMachine.TestCase


# --- run outcome -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("writes", "outcome"),
    [
        ([], R.SUCCEEDED),
        ([W.APPLIED], R.SUCCEEDED),
        ([W.PLANNED, W.PLANNED], R.SUCCEEDED),
        ([W.APPLIED, W.REJECTED], R.SUCCEEDED),
        ([W.APPLIED, W.CANCELLED], R.SUCCEEDED),
        ([W.PENDING], None),
        ([W.APPLIED, W.APPROVED], None),
        ([W.APPLYING, W.FAILED], None),
        ([W.INTERRUPTED, W.REJECTED], None),
        ([W.FAILED], R.FAILED),
        ([W.APPLIED, W.FAILED, W.REJECTED], R.FAILED),
        ([W.REJECTED], R.REJECTED),
        ([W.REJECTED, W.REJECTED], R.REJECTED),
        ([W.REJECTED, W.CANCELLED], R.REJECTED),
        ([W.REJECTED, W.EXPIRED], R.REJECTED),
        ([W.CANCELLED], R.CANCELLED),
        ([W.CANCELLED, W.CANCELLED], R.CANCELLED),
        ([W.EXPIRED], R.CANCELLED),
        ([W.CANCELLED, W.EXPIRED], R.CANCELLED),
        (["applied", "rejected"], R.SUCCEEDED),
        # a stale write was replaced: its replacement decides
        ([W.STALE, W.PENDING], None),
        ([W.STALE, W.APPLIED], R.SUCCEEDED),
        ([W.STALE, W.FAILED], R.FAILED),
        ([W.STALE, W.REJECTED], R.REJECTED),
    ],
)
def test_run_outcome_examples(writes, outcome):
    assert run_outcome(writes) is outcome
    assert run_outcome(iter(writes)) is outcome, "any iterable, consumed once"


write_lists = st.lists(st.sampled_from(list(WriteStatus)), max_size=12)


@given(write_lists, st.randoms())
def test_run_outcome_ignores_order(writes, rnd):
    shuffled = list(writes)
    rnd.shuffle(shuffled)
    assert run_outcome(shuffled) is run_outcome(writes)


@given(write_lists)
def test_run_outcome_open_and_failed(writes):
    outcome = run_outcome(writes)
    is_open = any(w in RUN_OPEN_WRITE_STATUSES for w in writes)
    assert (outcome is None) is is_open
    if not is_open:
        assert (outcome is R.FAILED) is (W.FAILED in writes)
        assert outcome in {R.SUCCEEDED, R.FAILED, R.REJECTED, R.CANCELLED}
        # A finished run's outcome is a status a running or awaiting run may move to.
        assert outcome in RUN_TRANSITIONS[R.AWAITING_APPROVAL]


@given(write_lists)
def test_run_outcome_succeeded_only_when_nothing_went_wrong_entirely(writes):
    outcome = run_outcome(writes)
    writes = [w for w in writes if w is not W.STALE]  # replaced: not counted
    if outcome is R.SUCCEEDED:
        assert W.FAILED not in writes
        assert not writes or any(w in {W.APPLIED, W.PLANNED} for w in writes)
    if outcome is R.REJECTED:
        assert W.REJECTED in writes
        assert not any(w in {W.APPLIED, W.PLANNED} for w in writes)
    if outcome is R.CANCELLED:
        assert writes and set(writes) <= {W.CANCELLED, W.EXPIRED}


@given(st.sampled_from(list(WriteStatus)), st.integers(min_value=1, max_value=5))
def test_run_outcome_of_uniform_writes(status, n):
    outcome = run_outcome([status] * n)
    expected = {
        W.APPLIED: R.SUCCEEDED,
        W.PLANNED: R.SUCCEEDED,
        W.FAILED: R.FAILED,
        W.REJECTED: R.REJECTED,
        W.CANCELLED: R.CANCELLED,
        W.EXPIRED: R.CANCELLED,
        W.STALE: R.SUCCEEDED,  # not counted: as a run with no writes
    }.get(status)
    assert outcome is expected


def test_run_outcome_refuses_unknown_status():
    with pytest.raises(ValueError):
        run_outcome(["applied", "done"])
