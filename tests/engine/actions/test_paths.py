"""Scope checks and atomic writes on real folders."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from sophmate_desktop.engine.actions import ScopeError
from sophmate_desktop.engine.actions.paths import (
    DirSync,
    atomic_copy,
    atomic_write,
    recheck_target,
    resolve_in_scope,
)


def test_a_target_inside_the_scope_resolves(out_dir: Path) -> None:
    assert resolve_in_scope(f"{out_dir}/a/b.txt", [out_dir]) == out_dir / "a" / "b.txt"


def test_dotdot_escape_is_refused_and_names_target_and_scope(
    out_dir: Path, outside_dir: Path
) -> None:
    with pytest.raises(ScopeError) as info:
        resolve_in_scope(f"{out_dir}/../outside/x.txt", [out_dir])
    message = str(info.value)
    assert f"resolves to {outside_dir / 'x.txt'}" in message
    assert f"outside the output scope ({out_dir})" in message


def test_symlink_escape_is_refused(out_dir: Path, outside_dir: Path) -> None:
    (out_dir / "link").symlink_to(outside_dir)
    with pytest.raises(ScopeError):
        resolve_in_scope(f"{out_dir}/link/x.txt", [out_dir])


def test_a_symlinked_root_is_resolved_too(tmp_path: Path, out_dir: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(out_dir)
    assert resolve_in_scope(f"{out_dir}/x.txt", [alias]) == out_dir / "x.txt"


def test_the_root_itself_and_siblings_with_a_common_prefix_are_not_inside(
    tmp_path: Path, out_dir: Path
) -> None:
    (tmp_path / "out-evil").mkdir()
    with pytest.raises(ScopeError):
        resolve_in_scope(str(out_dir), [out_dir])
    with pytest.raises(ScopeError):
        resolve_in_scope(f"{tmp_path}/out-evil/x", [out_dir])


def test_no_scope_declared_refuses_everything(out_dir: Path) -> None:
    with pytest.raises(ScopeError, match=r"outside the output scope \(none declared\)"):
        resolve_in_scope(f"{out_dir}/x.txt", [])


def test_home_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "docs").mkdir()
    assert resolve_in_scope("~/docs/x.txt", [Path("~/docs")]) == tmp_path / "docs" / "x.txt"


def test_recheck_refuses_a_symlink_that_appeared_after_planning(
    out_dir: Path, outside_dir: Path
) -> None:
    planned = resolve_in_scope(f"{out_dir}/sub/x.txt", [out_dir])
    (out_dir / "sub").symlink_to(outside_dir)
    with pytest.raises(ScopeError, match="changed since it was planned"):
        recheck_target(str(planned), [str(out_dir)])


def test_atomic_write_creates_parents_and_leaves_no_temp_files(out_dir: Path) -> None:
    target = out_dir / "a" / "b" / "c.txt"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in out_dir.rglob("*")) == ["a", "b", "c.txt"]


def test_atomic_write_keeps_an_existing_files_mode(out_dir: Path) -> None:
    target = out_dir / "script.sh"
    target.write_text("old")
    os.chmod(target, 0o750)
    atomic_write(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o750


def test_a_failed_rename_leaves_no_temp_file(out_dir: Path) -> None:
    # Renaming a file over a non-empty folder fails after the data was written.
    target = out_dir / "folder"
    target.mkdir()
    (target / "inside.txt").write_text("kept")
    with pytest.raises(OSError):
        atomic_write(target, b"data")
    assert sorted(p.name for p in out_dir.rglob("*")) == ["folder", "inside.txt"]
    assert (target / "inside.txt").read_text() == "kept"


def test_atomic_copy_refuses_a_source_that_changed(out_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("a,b\n")
    target = out_dir / "copy.csv"
    with pytest.raises(Exception, match="changed since it was planned"):
        atomic_copy(source, target, "0" * 64)
    assert list(out_dir.iterdir()) == []


def test_a_dir_sync_fsyncs_each_folder_once_at_its_flush(out_dir: Path) -> None:
    dirs = DirSync()
    for name in ("a/1.txt", "a/2.txt", "b/3.txt"):
        atomic_write(out_dir / name, name.encode(), sync_dir=dirs.defer)
    source = out_dir / "a" / "1.txt"
    atomic_copy(source, out_dir / "b" / "4.txt", sync_dir=dirs.defer)
    assert (out_dir / "b" / "4.txt").read_bytes() == b"a/1.txt"
    assert dirs.flush() == 2  # a and b, once each
    assert dirs.flush() == 0  # nothing deferred since
    names = sorted(p.name for p in out_dir.rglob("*"))
    assert names == ["1.txt", "2.txt", "3.txt", "4.txt", "a", "b"]  # no temporary file
