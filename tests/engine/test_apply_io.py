"""The file-write threads of a batch: chains side by side, each chain in order."""

from __future__ import annotations

import threading

import pytest

from sophmate_desktop.engine.apply_io import ChainPool


def test_chains_run_side_by_side_each_in_its_order():
    pool = ChainPool(threads=3)
    # Each chain's first step waits for the other chains' first steps: one at a time,
    # the barrier would break (its timeout) instead of opening.
    barrier = threading.Barrier(3, timeout=10)
    seen: dict[str, list[int]] = {"a": [], "b": [], "c": []}

    def step(item: tuple[str, int]) -> str:
        chain, i = item
        if i == 0:
            barrier.wait()
        seen[chain].append(i)
        return f"{chain}{i}"

    chains = [[(c, i) for i in range(4)] for c in "abc"]
    try:
        results = pool.run(chains, step)
    finally:
        pool.shutdown()
    assert results == [[f"{c}{i}" for i in range(4)] for c in "abc"]
    assert seen == {c: [0, 1, 2, 3] for c in "abc"}


def test_an_error_is_raised_once_every_chain_has_ended():
    pool = ChainPool(threads=2)
    done = []
    slow_may_end = threading.Event()

    def step(item: str) -> str:
        if item == "bad":
            slow_may_end.set()
            raise ValueError("bad write")
        if item == "slow":
            assert slow_may_end.wait(10)
        done.append(item)
        return item

    try:
        with pytest.raises(ValueError, match="bad write"):
            pool.run([["bad"], ["slow", "after"]], step)
    finally:
        pool.shutdown()
    assert done == ["slow", "after"]


def test_one_chain_runs_in_the_callers_thread_and_a_shut_pool_starts_again():
    pool = ChainPool(threads=4)
    me = threading.get_ident()
    assert pool.run([[1, 2]], lambda i: (i, threading.get_ident() == me)) == [
        [(1, True), (2, True)]
    ]
    pool.shutdown()
    assert pool.run([[1], [2]], lambda i: i * 10) == [[10], [20]]
    pool.shutdown()
