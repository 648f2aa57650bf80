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
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch, fnmatchcase
from pathlib import Path

from sophmate_desktop.domain.errors import BadInput, SophmateError

log = logging.getLogger(__name__)

EVENT_KINDS = frozenset({"created", "modified", "moved", "closed"})
ARRIVALS = frozenset({"created", "moved"})
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
    settle_closed: bool = False  # wait for the writer's close (inotify), not the timer
    follow_links_outside: bool = False
    safety_scan_s: float = 300.0  # 0: no periodic rescan
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

    @property
    def arrivals_only(self) -> bool:
        """It acts on nothing but a file's creation or arrival by rename, at once."""
        return self.settle_ms == 0 and not self.settle_closed and self.events <= ARRIVALS

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
    """The matching files in the spec's folder now (below it if recursive)."""
    for path, _ in scan_stamps(spec):
        yield Path(path)


def scan_stamps(spec: WatchSpec) -> Iterator[tuple[str, FileStamp]]:
    """(path, (size, mtime_ns)) of the matching files in the spec's folder now (below
    it if recursive), sorted by name per folder; one stat per file. Symlinked folders
    are not followed; unreadable subfolders are skipped with a warning. An unreadable
    or missing watched folder raises OSError."""
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
                if not spec.matches_str(entry.path):
                    continue
                st = entry.stat()  # follows a link: the stamp of what it points at
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                yield entry.path, (st.st_size, st.st_mtime_ns)
        stack.extend(reversed(subfolders))


def escaped_path(path: str | os.PathLike[str]) -> str:
    """The path as text that can be stored and shown: bytes that are not UTF-8 (a
    surrogate-escaped str from os.fsdecode) written as backslash escapes (bad\\xff.csv)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def undecodable(path: str | os.PathLike[str]) -> bool:
    """True for a path whose name is not valid UTF-8 (the database cannot store it)."""
    try:
        os.fspath(path).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class LinkCheck:
    """Does a file resolve (a symlink, or a path through a symlinked folder) outside
    its watched folder? One realpath per folder, one lstat per file."""

    def __init__(self) -> None:
        self._real: dict[str, str] = {}

    def _realdir(self, folder: str) -> str:
        real = self._real.get(folder)
        if real is None:
            real = self._real[folder] = os.path.join(os.path.realpath(folder), "")
        return real

    def outside(self, spec: WatchSpec, path: str) -> str | None:
        """The place `path` resolves to when that is outside spec.folder, else None."""
        root = self._realdir(str(spec.folder))
        try:
            is_link = stat.S_ISLNK(os.lstat(path).st_mode)
        except OSError:
            return None
        if is_link:
            target = os.path.realpath(path)
        else:
            parent, _, name = path.rpartition(os.sep)
            target = self._realdir(parent or os.sep) + name
        return None if target.startswith(root) else target


def refusal(spec: WatchSpec | None, path: Path, links: LinkCheck) -> str | None:
    """Why a file must not run (an undecodable name, a link resolving outside the
    watched folder without the workflow's leave), or None."""
    shown = escaped_path(path)
    if undecodable(path):
        return (
            f"the file name {shown} is not valid UTF-8 (shown with backslash escapes): "
            "it is not run; rename the file to run it"
        )
    if spec is None or spec.follow_links_outside:
        return None
    target = links.outside(spec, str(path))
    if target is None:
        return None
    return (
        f"{shown} resolves outside the watched folder {spec.folder} "
        f"(to {escaped_path(target)}): refused; the workflow's "
        "trigger.follow_links_outside allows it"
    )


class StampMemo:
    """What the last scan of each watch saw, path -> (size, mtime_ns): the periodic
    safety scan offers only files that are new or changed since (stat only)."""

    def __init__(self) -> None:
        self._seen: dict[str, dict[str, FileStamp]] = {}
        self._lock = threading.Lock()

    def scan(self, spec: WatchSpec, *, only_changed: bool) -> list[tuple[Path, FileStamp]]:
        """The matching files now (all, or only those new or changed since the last
        scan of this spec); remembers what it saw."""
        now = dict(scan_stamps(spec))
        with self._lock:
            before = self._seen.get(spec.key, {})
            self._seen[spec.key] = now
        return [
            (Path(p), stamp)
            for p, stamp in now.items()
            if not only_changed or before.get(p) != stamp
        ]

    def forget(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._seen.pop(key, None)


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
    total = 0
    # O_NONBLOCK: opening a FIFO must not hang (it is refused just below).
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with open(fd, "rb", buffering=0) as f:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise BadInput(f"{path} is not a regular file")
        # sized to the file: a fresh 1 MB buffer per small file was most of a scan's hashing
        buffer = bytearray(max(1, min(chunk, before.st_size + 1)))
        view = memoryview(buffer)
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
