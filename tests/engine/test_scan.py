"""The reconciliation scan and file versions, on real files."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.engine.scan import (
    FileChanged,
    FileVersion,
    WatchSpec,
    file_version,
    scan_folder,
)


def make_tree(base: Path) -> None:
    for rel in [
        "a.csv",
        "b.txt",
        "~skip.csv",
        ".a.csv.sophmate-tmp-9",
        "in/c.csv",
        "in/d.json",
        "in/deep/e.csv",
    ]:
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)
    (base / "folder.csv").mkdir()


def names(spec: WatchSpec) -> list[str]:
    return [p.relative_to(spec.folder).as_posix() for p in scan_folder(spec)]


def test_scan_non_recursive_and_recursive(tmp_path: Path) -> None:
    make_tree(tmp_path)
    flat = WatchSpec("w", tmp_path, patterns=("*.csv",), ignore=("~*",))
    assert names(flat) == ["a.csv"]
    deep = WatchSpec("w", tmp_path, patterns=("*.csv",), ignore=("~*",), recursive=True)
    assert names(deep) == ["a.csv", "in/c.csv", "in/deep/e.csv"]
    every = WatchSpec("w", tmp_path, recursive=True)
    assert names(every) == [
        "a.csv",
        "b.txt",
        "~skip.csv",
        "in/c.csv",
        "in/d.json",
        "in/deep/e.csv",
    ]  # never directories, never our own temp files


def test_scan_patterns_with_a_slash_match_the_relative_path(tmp_path: Path) -> None:
    make_tree(tmp_path)
    spec = WatchSpec("w", tmp_path, patterns=("in/*.json", "*.txt"), recursive=True)
    assert names(spec) == ["b.txt", "in/d.json"]


def test_scan_does_not_follow_symlinked_folders(tmp_path: Path) -> None:
    make_tree(tmp_path / "real")
    (tmp_path / "real" / "loop").symlink_to(tmp_path / "real")
    spec = WatchSpec("w", tmp_path / "real", patterns=("*.csv",), recursive=True)
    assert "loop/a.csv" not in names(spec)
    assert len(names(spec)) == 4


def test_scan_of_a_missing_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(scan_folder(WatchSpec("w", tmp_path / "nope")))


def _scan_as_nobody(base: Path) -> tuple[list[str], list[str]]:
    """Root reads every folder, so scan in a forked child that dropped to "nobody"."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: no pytest machinery from here on, always _exit
        status = 1
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            warnings: list[str] = []
            handler = logging.Handler(logging.WARNING)
            handler.emit = lambda record: warnings.append(record.getMessage())  # type: ignore[method-assign]
            logging.getLogger("sophmate_desktop.engine.scan").addHandler(handler)
            found = [str(p) for p in scan_folder(WatchSpec("w", base, recursive=True))]
            os.write(write_fd, json.dumps([found, warnings]).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert status == 0, "the scan failed in the child process"
    found, warnings = json.loads(payload)
    return found, warnings


def test_scan_skips_unreadable_subfolders_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if os.geteuid() != 0:
        make_tree(tmp_path)
        (tmp_path / "in").chmod(0)
        try:
            with caplog.at_level(logging.WARNING, logger="sophmate_desktop.engine.scan"):
                found = names(WatchSpec("w", tmp_path, recursive=True))
        finally:
            (tmp_path / "in").chmod(0o755)
        assert found == ["a.csv", "b.txt", "~skip.csv"]
        assert "unreadable folder" in caplog.text and str(tmp_path / "in") in caplog.text
        return
    # root reads everything: scan as "nobody" in a child process instead
    base = Path(tempfile.mkdtemp(prefix="sophmate-scan-"))
    try:
        make_tree(base)
        for path in [base, *base.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        (base / "in").chmod(0o700)
        found, warnings = _scan_as_nobody(base)
    finally:
        shutil.rmtree(base)
    assert [Path(p).relative_to(base).as_posix() for p in found] == ["a.csv", "b.txt", "~skip.csv"]
    assert any("unreadable folder" in w and str(base / "in") in w for w in warnings)


def test_file_version_hashes_the_content(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    st = path.stat()
    version = file_version(path)
    assert version == FileVersion(path, len(data), st.st_mtime_ns, hashlib.sha256(data).hexdigest())
    assert file_version(path, chunk=4096) == version
    path.write_bytes(data[:-1])
    assert file_version(path).sha256 == hashlib.sha256(data[:-1]).hexdigest()


def test_file_version_refuses_what_is_not_a_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(BadInput, match="not a regular file"):
        file_version(fifo)  # must not hang waiting for a writer
    with pytest.raises(IsADirectoryError):
        file_version(tmp_path)


def test_file_version_raises_file_changed_while_written(tmp_path: Path) -> None:
    path = tmp_path / "growing.bin"
    path.write_bytes(b"x" * (4 * 1024 * 1024))
    stop = threading.Event()

    def writer() -> None:
        with open(path, "ab") as f:
            while not stop.is_set():
                f.write(b"y")
                f.flush()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(50):
            try:
                file_version(path, chunk=4096)
            except FileChanged:
                break
        else:
            pytest.fail("file_version never noticed the file growing")
    finally:
        stop.set()
        thread.join()
    assert file_version(path).size == path.stat().st_size  # still, it settles fine


def test_file_version_raises_file_changed_when_replaced(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"old" * 1_000_000)
    replacement = tmp_path / "new.bin"
    stop = threading.Event()

    def replacer() -> None:
        toggle = 0
        while not stop.is_set():
            replacement.write_bytes(b"new%d" % toggle * 100_000)
            os.replace(replacement, path)
            toggle ^= 1

    thread = threading.Thread(target=replacer)
    thread.start()
    try:
        for _ in range(50):
            try:
                file_version(path, chunk=4096)
            except FileChanged:
                break
            except FileNotFoundError:
                continue
        else:
            pytest.fail("file_version never noticed the file being replaced")
    finally:
        stop.set()
        thread.join()
