"""write_file, copy_file and move_file on real files in tmp_path."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sophmate_desktop.engine.actions import ActionError, ScopeError, apply_write, plan_step
from tests.support.actions import step


def _only(writes):
    assert len(writes) == 1
    return writes[0]


def test_write_file_plans_a_new_file_then_writes_it(make_plan_ctx, make_apply_ctx, out_dir):
    s = step(
        "write_file",
        to="{{ output.path }}/{{ workflow.name }}-{{ run.id }}.txt",
        content="hello {{ workflow.owner }}\n",
    )
    w = _only(plan_step(s, make_plan_ctx(), 0))
    target = out_dir / "intake-7.txt"
    assert w.kind == "write_file" and w.effect == "file"
    assert w.target == str(target)
    assert w.preview.startswith("new file: ") and "hello ops-lead" in w.preview
    assert w.payload["sha256"] == hashlib.sha256(b"hello ops-lead\n").hexdigest()
    assert not target.exists()  # planning is read-only

    result = apply_write(w.kind, w.payload, make_apply_ctx())
    assert target.read_text() == "hello ops-lead\n"
    assert result.undo is not None
    assert (
        result.undo.items() >= {"path": str(target), "existed": False, "action": "delete"}.items()
    )
    assert result.bytes_written == len(b"hello ops-lead\n")


def test_write_file_previews_a_diff_and_keeps_the_previous_content_for_undo(
    make_plan_ctx, make_apply_ctx, out_dir
):
    target = out_dir / "config.ini"
    target.write_text("a=1\nb=2\n")
    w = _only(
        plan_step(step("write_file", to=str(target), content="a=1\nb=3\n"), make_plan_ctx(), 0)
    )
    assert "-b=2\n+b=3\n" in w.preview
    assert f"--- {target} (current)" in w.preview
    result = apply_write(w.kind, w.payload, make_apply_ctx())
    assert target.read_text() == "a=1\nb=3\n"
    assert result.undo["previous"] == "a=1\nb=2\n"


def test_a_large_previous_file_is_noted_not_stored(make_plan_ctx, make_apply_ctx, out_dir):
    target = out_dir / "big.txt"
    target.write_text("x" * (1024 * 1024 + 1))
    w = _only(plan_step(step("write_file", to=str(target), content="small"), make_plan_ctx(), 0))
    undo = apply_write(w.kind, w.payload, make_apply_ctx()).undo
    assert undo["previous"] is None and undo["existed"] is True
    assert "over 1 MiB" in undo["note"]


def test_reapplying_the_same_write_does_nothing(make_plan_ctx, make_apply_ctx, out_dir):
    w = _only(
        plan_step(
            step("write_file", to="{{ output.path }}/a.txt", content="v1"), make_plan_ctx(), 0
        )
    )
    apply_write(w.kind, w.payload, make_apply_ctx())
    target = out_dir / "a.txt"
    inode, mtime = target.stat().st_ino, target.stat().st_mtime_ns
    again = apply_write(w.kind, w.payload, make_apply_ctx())
    assert again.bytes_written == 0 and again.undo == {"path": str(target), "unchanged": True}
    assert (target.stat().st_ino, target.stat().st_mtime_ns) == (inode, mtime)


@pytest.mark.parametrize(
    "to", ["{{ output.path }}/../outside/x.txt", "{{ output.path }}/link/x.txt"]
)
def test_escapes_are_refused_at_plan_and_nothing_is_written_outside(
    make_plan_ctx, out_dir, outside_dir, to
):
    (out_dir / "link").symlink_to(outside_dir)
    with pytest.raises(ScopeError) as info:
        plan_step(step("write_file", to=to, content="x"), make_plan_ctx(), 2)
    assert str(info.value).startswith("steps[2].to: target ")
    assert "is outside the output scope" in str(info.value)
    assert list(outside_dir.iterdir()) == []


def test_a_symlink_planted_after_approval_stops_the_apply(
    make_plan_ctx, make_apply_ctx, out_dir, outside_dir
):
    w = _only(
        plan_step(
            step("write_file", to="{{ output.path }}/sub/x.txt", content="x"), make_plan_ctx(), 0
        )
    )
    (out_dir / "sub").symlink_to(outside_dir)
    with pytest.raises(ScopeError, match="changed since it was planned"):
        apply_write(w.kind, w.payload, make_apply_ctx())
    assert list(outside_dir.iterdir()) == []


def test_secrets_cannot_be_written_into_files(make_plan_ctx):
    with pytest.raises(ActionError, match=r"^steps\[0\]\.content: secrets \(db-pass\)"):
        plan_step(
            step("write_file", to="{{ output.path }}/x", content="{{ secret['db-pass'] }}"),
            make_plan_ctx(),
            0,
        )


def test_text_that_looks_like_a_secret_token_is_written_literally(
    make_plan_ctx, make_apply_ctx, out_dir
):
    s = step("write_file", to="{{ output.path }}/t.txt", content="{{ input }}")
    w = _only(plan_step(s, make_plan_ctx(input="pw=${secret:db-pass}"), 0))
    apply_write(w.kind, w.payload, make_apply_ctx())
    assert (out_dir / "t.txt").read_text() == "pw=${secret:db-pass}"


@pytest.fixture
def incoming(tmp_path: Path) -> Path:
    folder = tmp_path / "incoming"
    folder.mkdir()
    source = folder / "inv-42.csv"
    source.write_text("number,email\n42,a@example.test\n")
    return source


def test_copy_file_copies_atomically_and_is_idempotent(
    make_plan_ctx, make_apply_ctx, out_dir, incoming
):
    s = step("copy_file", to="{{ output.path }}/{{ file.stem }}-{{ run.id }}{{ file.suffix }}")
    w = _only(plan_step(s, make_plan_ctx(file=incoming), 0))
    target = out_dir / "inv-42-7.csv"
    sha = hashlib.sha256(incoming.read_bytes()).hexdigest()
    assert w.payload == {
        "source": str(incoming),
        "path": str(target),
        "sha256": sha,
        "scope": [str(out_dir)],
        "expect": {
            "target": {"exists": False},
            "source": {"size": incoming.stat().st_size, "sha256": sha},
        },
    }
    assert "new file" in w.preview
    first = apply_write(w.kind, w.payload, make_apply_ctx())
    assert target.read_bytes() == incoming.read_bytes()
    assert first.undo is not None
    assert first.undo.items() >= {"created": str(target), "action": "delete"}.items()
    second = apply_write(w.kind, w.payload, make_apply_ctx())
    assert second.bytes_written == 0 and second.undo["unchanged"] is True
    assert sorted(p.name for p in out_dir.iterdir()) == ["inv-42-7.csv"]


def test_copy_file_refuses_a_source_changed_since_approval(
    make_plan_ctx, make_apply_ctx, out_dir, incoming
):
    w = _only(
        plan_step(step("copy_file", to="{{ output.path }}/c.csv"), make_plan_ctx(file=incoming), 0)
    )
    incoming.write_text("tampered\n")
    with pytest.raises(ActionError, match="changed since it was planned"):
        apply_write(w.kind, w.payload, make_apply_ctx())
    assert list(out_dir.iterdir()) == []


def test_copy_file_needs_an_existing_trigger_file(make_plan_ctx, incoming):
    ctx = make_plan_ctx(file=incoming)
    incoming.unlink()
    with pytest.raises(ActionError, match=r"^steps\[0\]: the trigger file .* no longer exists"):
        plan_step(step("copy_file", to="{{ output.path }}/c.csv"), ctx, 0)
    with pytest.raises(ActionError, match=r"^steps\[1\]: copy_file needs a trigger file"):
        plan_step(step("copy_file", to="{{ output.path }}/c.csv"), make_plan_ctx(), 1)


def test_move_file_moves_and_a_repeat_finds_it_done(
    make_plan_ctx, make_apply_ctx, out_dir, incoming
):
    content = incoming.read_bytes()
    w = _only(
        plan_step(
            step("move_file", to="{{ output.path }}/{{ file.name }}"),
            make_plan_ctx(file=incoming),
            0,
        )
    )
    result = apply_write(w.kind, w.payload, make_apply_ctx())
    target = out_dir / "inv-42.csv"
    assert target.read_bytes() == content and not incoming.exists()
    assert result.undo["moved_from"] == str(incoming)
    again = apply_write(w.kind, w.payload, make_apply_ctx())
    assert again.output == "already moved" and target.read_bytes() == content


def test_move_file_finishes_a_move_cut_short_after_the_copy(
    make_plan_ctx, make_apply_ctx, out_dir, incoming
):
    w = _only(
        plan_step(
            step("move_file", to="{{ output.path }}/{{ file.name }}"),
            make_plan_ctx(file=incoming),
            0,
        )
    )
    (out_dir / "inv-42.csv").write_bytes(incoming.read_bytes())  # the copy had finished
    result = apply_write(w.kind, w.payload, make_apply_ctx())
    assert not incoming.exists() and result.bytes_written == 0


def test_move_file_onto_itself_is_refused(make_plan_ctx, incoming):
    ctx = make_plan_ctx(file=incoming, output_paths=(incoming.parent,))
    with pytest.raises(ActionError, match=r"^steps\[0\]\.to: .* is the trigger file itself"):
        plan_step(step("move_file", to=str(incoming)), ctx, 0)


def test_a_path_with_a_line_break_is_refused(make_plan_ctx):
    with pytest.raises(ActionError, match=r"^steps\[0\]\.to: the path .* contains a line break"):
        plan_step(step("write_file", to="{{ output.path }}/x\n", content="x"), make_plan_ctx(), 0)
