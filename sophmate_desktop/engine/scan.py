"""Which files a folder trigger matches, and the reconciliation scan.

`WatchSpec` holds the matching rules shared by the live watcher (watchers.py) and
the scan; `scan_folder` lists the matching files that are there now, and
`file_version` identifies one version of a file for the intake ledger.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch, fnmatchcase
from pathlib import Path

from sophmate_desktop.domain.errors import BadInput, SophmateError

log = logging.getLogger(__name__)

EVENT_KINDS = frozenset({"created", "modified", "moved", "closed"})
TEMP_FILE_PATTERN = ".*.sophmate-tmp*"  # our own atomic writes, never a trigger

FileStamp = tuple[int, int]  # (size, mtime_ns)


@dataclass(frozen=True)
class WatchSpec:
    """One workflow's folder trigger. `folder` is made absolute on construction.

    Patterns are simple name patterns (fnmatch on the file name, case-sensitive on
    Linux); a pattern containing "/" matches the path relative to the folder.
    Ignore patterns win over patterns.
    """

    key: str
    folder: Path
    patterns: tuple[str, ...] = ("*",)
    ignore: tuple[str, ...] = ()
    events: frozenset[str] = frozenset({"created", "moved"})
    recursive: bool = False
    settle_ms: int = 500
    polling: bool = False
    _prefix: str = field(init=False, repr=False, compare=False, default="")

    def __post_init__(self) -> None:
        def as_tuple(value: Iterable[str] | str) -> tuple[str, ...]:
            return (value,) if isinstance(value, str) else tuple(value)

        folder = Path(os.path.abspath(os.path.expanduser(self.folder)))
        object.__setattr__(self, "folder", folder)
        object.__setattr__(self, "patterns", as_tuple(self.patterns))
        object.__setattr__(self, "ignore", as_tuple(self.ignore))
        events = frozenset(str(e) for e in as_tuple(self.events))
        object.__setattr__(self, "events", events)
        if unknown := events - EVENT_KINDS:
            raise BadInput(f"watch {self.key!r}: unknown event(s) {sorted(unknown)}")
        if isinstance(self.settle_ms, bool) or not isinstance(self.settle_ms, int):
            raise BadInput(f"watch {self.key!r}: settle_ms must be an integer")
        if self.settle_ms < 0:
            raise BadInput(f"watch {self.key!r}: settle_ms must be >= 0")
        object.__setattr__(self, "_prefix", os.path.join(str(folder), ""))

    def matches(self, path: Path) -> bool:
        """True for a file (not a directory) this spec would trigger on."""
        text = os.path.abspath(path)
        return self.matches_str(text) and not os.path.isdir(text)

    def matches_str(self, path: str) -> bool:
        """Name/location test only, no file system access; `path` must be absolute."""
        prefix = self._prefix
        if not path.startswith(prefix) or len(path) == len(prefix):
            return False
        rel = path[len(prefix) :]
        if not self.recursive and os.sep in rel:
            return False
        name = rel.rpartition(os.sep)[2]
        if fnmatchcase(name, TEMP_FILE_PATTERN):
            return False
        rel_posix = rel.replace(os.sep, "/")

        def hit(patterns: tuple[str, ...]) -> bool:
            return any(fnmatch(rel_posix if "/" in p else name, p) for p in patterns)

        return not hit(self.ignore) and hit(self.patterns)


def file_stamp(path: str | os.PathLike[str]) -> FileStamp | None:
    """(size, mtime_ns) of a regular file, None if it is gone or not a regular file."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        log.warning("cannot stat %s: %s", path, exc)
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return (st.st_size, st.st_mtime_ns)


def scan_folder(spec: WatchSpec) -> Iterator[Path]:
    """The matching files in the spec's folder now (below it if recursive), sorted by
    name per folder. Symlinked folders are not followed; unreadable subfolders are
    skipped with a warning. An unreadable or missing watched folder raises OSError."""
    root = str(spec.folder)
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            if folder == root:
                raise
            log.warning("reconciliation scan skips unreadable folder %s: %s", folder, exc)
            continue
        subfolders = []
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if spec.recursive:
                        subfolders.append(entry.path)
                    continue
                is_file = entry.is_file()
            except OSError:
                continue
            if is_file and spec.matches_str(entry.path):
                yield Path(entry.path)
        stack.extend(reversed(subfolders))


class FileChanged(SophmateError):
    """The file changed while it was hashed: retry later."""


@dataclass(frozen=True)
class FileVersion:
    path: Path
    size: int
    mtime_ns: int
    sha256: str


def file_version(path: Path, chunk: int = 1024 * 1024) -> FileVersion:
    """Size, mtime and SHA-256 of one version of a file. Raises FileChanged if the
    file was written to or replaced while it was read, OSError if it can't be read."""

    def ident(st: os.stat_result) -> tuple[int, int, int, int]:
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    digest = hashlib.sha256()
    buffer = bytearray(chunk)
    view = memoryview(buffer)
    total = 0
    # O_NONBLOCK: opening a FIFO must not hang (it is refused just below).
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with open(fd, "rb", buffering=0) as f:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise BadInput(f"{path} is not a regular file")
        while n := f.readinto(buffer):
            digest.update(view[:n])
            total += n
        after = os.fstat(fd)
    try:
        now = os.stat(path)
    except FileNotFoundError:
        raise FileChanged(f"{path} disappeared while it was read") from None
    if ident(after) != ident(before) or ident(now) != ident(before) or total != before.st_size:
        raise FileChanged(f"{path} changed while it was read")
    return FileVersion(Path(path), before.st_size, before.st_mtime_ns, digest.hexdigest())
