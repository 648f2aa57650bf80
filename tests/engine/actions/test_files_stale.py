"""Previews that cannot go stale: a file write is applied only against the state its
preview was made against. The interleavings are made deterministic with a profiler
hook: the target is changed at the k-th call the apply makes (Python or C), for every
k from the apply's start until the preview check reads the target."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from sophmate_desktop.engine.actions import apply_write, plan_step
from sophmate_desktop.engine.actions.base import Stale
from sophmate_desktop.engine.actions.files import CopyFile, WriteFile
from tests.support.actions import step

CHANGES: dict[str, Callable[[Path], None]] = {
    "rewritten": lambda p: p.write_text("someone else's text"),
    "grown": lambda p: p.write_text(p.read_text() + " and more"),
    "deleted": lambda p: p.unlink(),
    "created": lambda p: p.write_text("created meanwhile"),
}


def _write_plan(make_plan_ctx, existed: bool, out_dir: Path):
    target = out_dir / "t.txt"
    target.unlink(missing_ok=True)
    if existed:
        target.write_text("previewed text")
    s = step("write_file", to="{{ output.path }}/t.txt", content="approved text")
    [w] = plan_step(s, make_plan_ctx(), 0)
    return target, w


def _calls_until_check(payload, ctx) -> int:
    """How many profiler events an apply makes before its preview check starts."""
    events: list[str] = []
    found: list[int] = []

    def profile(frame, event, arg) -> None:
        if event == "call" and frame.f_code.co_qualname == "_checker.<locals>.check" and not found:
            found.append(len(events))
        events.append(event)

    sys.setprofile(profile)
    try:
        apply_write("write_file", payload, ctx)
    finally:
        sys.setprofile(None)
    assert found, "the apply never checked its preview"
    return found[0]


def _apply_changing_at(k: int, change: Callable[[], None], payload, ctx) -> None:
    seen = [0]

    def profile(frame, event, arg) -> None:
        if seen[0] == k:
            change()
        seen[0] += 1

    sys.setprofile(profile)
    try:
        apply_write("write_file", payload, ctx)
    finally:
        sys.setprofile(None)


@pytest.mark.parametrize(
    ("change", "existed"),
    [("rewritten", True), ("grown", True), ("deleted", True), ("created", False)],
)
def test_a_file_changed_anywhere_between_plan_and_rename_is_never_written(
    make_plan_ctx, make_apply_ctx, out_dir, change, existed
):
    target, w = _write_plan(make_plan_ctx, existed, out_dir)
    last = _calls_until_check(dict(w.payload), make_apply_ctx())
    points = sorted({round(i * last / 49) for i in range(50)})
    assert len(points) == 50, f"only {last} calls before the check"
    applied_stale = []
    for k in points:  # 4 changes x 50 points: 200 interleavings
        target, w = _write_plan(make_plan_ctx, existed, out_dir)
        try:
            _apply_changing_at(k, partial(CHANGES[change], target), w.payload, make_apply_ctx())
        except Stale as exc:
            assert "changed since this preview" in str(exc)
            assert not target.exists() or target.read_text() != "approved text"
        else:
            applied_stale.append(k)
    assert applied_stale == []
    assert [p.name for p in out_dir.iterdir() if p.name != "t.txt"] == []  # no temp file


def test_an_unchanged_target_is_written_and_a_repeat_is_a_no_op(
    make_plan_ctx, make_apply_ctx, out_dir
):
    target, w = _write_plan(make_plan_ctx, True, out_dir)
    assert w.payload["expect"]["target"]["size"] == len("previewed text")
    apply_write(w.kind, w.payload, make_apply_ctx())
    assert target.read_text() == "approved text"
    # a retry after a crash finds the work done: no stale, no second write
    assert apply_write(w.kind, w.payload, make_apply_ctx()).output == "already up to date"


def test_replan_previews_the_file_as_it_is_now(make_plan_ctx, make_apply_ctx, out_dir):
    target, w = _write_plan(make_plan_ctx, True, out_dir)
    target.write_text("edited by hand\n")
    with pytest.raises(Stale):
        apply_write(w.kind, w.payload, make_apply_ctx())
    again = WriteFile().replan(w.payload)
    assert "-edited by hand" in again.preview and "+approved text" in again.preview
    assert again.payload["expect"]["target"]["size"] == len("edited by hand\n")
    apply_write(again.kind, again.payload, make_apply_ctx())
    assert target.read_text() == "approved text"


def test_a_copy_whose_source_changed_is_stale(make_plan_ctx, make_apply_ctx, out_dir, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("a,b\n1,2\n")
    s = step("copy_file", to="{{ output.path }}/copy.csv")
    [w] = plan_step(s, make_plan_ctx(file=source), 0)
    source.write_text("a,b\n3,4\n")
    with pytest.raises(Stale, match="changed since"):
        apply_write(w.kind, w.payload, make_apply_ctx())
    assert not (out_dir / "copy.csv").exists()
    again = CopyFile().replan(w.payload)
    apply_write(again.kind, again.payload, make_apply_ctx())
    assert (out_dir / "copy.csv").read_text() == "a,b\n3,4\n"
