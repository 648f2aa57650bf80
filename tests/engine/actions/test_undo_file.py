"""The undo store kept by the file actions' apply, and undo_file putting bytes back:
idempotent, refused when the target changed since the write."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sophmate_desktop.engine.actions import ActionError, apply_write, plan_step
from sophmate_desktop.store import undo_blobs
from tests.support.actions import step


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _apply(make_plan_ctx, ctx, params: dict, file: Path | None = None) -> dict:
    [w] = plan_step(step(params.pop("action"), **params), make_plan_ctx(file=file), 0)
    return apply_write(w.kind, w.payload, ctx).undo


def _undo_payload(undo: dict) -> dict:
    keys = ("action", "target", "blob", "applied_sha256")
    return {k: undo.get(k) for k in keys} | {"source": undo.get("moved_from"), "undoes": 1}


@pytest.fixture
def ctx(make_apply_ctx, tmp_path):
    c = make_apply_ctx()
    c.undo_dir = tmp_path / "undo"
    return c


def test_overwriting_keeps_the_previous_bytes_and_undo_restores_them(make_plan_ctx, ctx, out_dir):
    target = out_dir / "a.bin"
    target.write_bytes(bytes(range(256)) * 3)
    before = _sha(target)
    undo = _apply(make_plan_ctx, ctx, {"action": "write_file", "to": str(target), "content": "x"})
    assert undo["action"] == "restore" and undo["blob"] == before
    assert (ctx.undo_dir / before[:2] / before).read_bytes() == bytes(range(256)) * 3
    assert undo["applied_sha256"] == _sha(target) and undo["applied_size"] == 1
    payload = _undo_payload(undo)
    apply_write("undo_file", payload, ctx)
    assert _sha(target) == before
    assert apply_write("undo_file", payload, ctx).output == "already undone"


def test_a_created_file_is_deleted_and_a_moved_one_moved_back(
    make_plan_ctx, ctx, out_dir, tmp_path
):
    created = out_dir / "new.txt"
    undo = _apply(make_plan_ctx, ctx, {"action": "write_file", "to": str(created), "content": "n"})
    assert undo["action"] == "delete"
    apply_write("undo_file", _undo_payload(undo), ctx)
    assert not created.exists()

    source = tmp_path / "in" / "m.txt"
    source.parent.mkdir()
    source.write_bytes(b"moved bytes")
    dest = out_dir / "m.txt"
    undo = _apply(make_plan_ctx, ctx, {"action": "move_file", "to": str(dest)}, file=source)
    assert undo["action"] == "move_back" and not source.exists()
    apply_write("undo_file", _undo_payload(undo), ctx)
    assert source.read_bytes() == b"moved bytes" and not dest.exists()


def test_undo_file_refuses_a_target_changed_since_the_write(make_plan_ctx, ctx, out_dir):
    target = out_dir / "a.txt"
    target.write_text("before")
    undo = _apply(make_plan_ctx, ctx, {"action": "write_file", "to": str(target), "content": "x"})
    target.write_text("a person's edit")
    with pytest.raises(ActionError, match="changed since it was applied"):
        apply_write("undo_file", _undo_payload(undo), ctx)
    assert target.read_text() == "a person's edit"


def test_a_file_over_the_size_cap_is_not_kept(make_plan_ctx, ctx, out_dir, monkeypatch):
    monkeypatch.setattr(undo_blobs, "BLOB_LIMIT", 10)
    target = out_dir / "big.txt"
    target.write_text("more than ten bytes")
    undo = _apply(make_plan_ctx, ctx, {"action": "write_file", "to": str(target), "content": "x"})
    assert undo["blob"] is None and undo["previous"] == "more than ten bytes"
    with pytest.raises(ActionError, match="not by a step"):
        plan_step(step("undo_file", to=str(target)), make_plan_ctx(), 0)
