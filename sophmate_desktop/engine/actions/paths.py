"""Output scope checks and atomic file writes (DESIGN section 6).

A target is resolved the way the operating system will resolve it when writing:
`~` expanded, made absolute, `..` and symlinks of its existing part followed. Only a
result inside one of the (equally resolved) output roots is accepted.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import stat
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from sophmate_desktop.engine.actions.base import ScopeError, Stale

_CHUNK = 1024 * 1024


def _resolve(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.realpath(os.path.abspath(os.path.expanduser(os.fspath(path)))))


def _resolve_with(path: str, folders: dict[str, str]) -> tuple[str, bool]:
    """`_resolve(path)` as text, its folder's resolution taken from (or kept in)
    `folders`: only the last part is looked at again (followed if it is a link); and
    whether that look found nothing there (the target certainly does not exist)."""
    absolute = os.path.abspath(os.path.expanduser(path))
    head, tail = os.path.split(absolute)
    if not tail:
        return os.path.realpath(absolute), False
    real_head = folders.get(head)
    if real_head is None:
        real_head = folders[head] = os.path.realpath(head)
    joined = os.path.join(real_head, tail)
    try:  # one lstat: is it a link, and is anything there at all
        mode = os.lstat(joined).st_mode
    except FileNotFoundError:
        return joined, True
    except OSError:  # not a link as far as can be seen (os.path.islink says False)
        return joined, False
    if stat.S_ISLNK(mode):
        return os.path.realpath(joined), False
    return joined, False


def _resolved_root(root: Path, folders: dict[str, str]) -> str:
    key = "\x00root:" + os.fspath(root)  # no folder's path holds a NUL
    real = folders.get(key)
    if real is None:
        real = folders[key] = str(_resolve(root))
    return real


def _inside_text(resolved: str, root: str) -> bool:
    """`Path(resolved).is_relative_to(root)` and not `root` itself, for two resolved
    (normalised, absolute) paths."""
    if resolved == root:
        return False
    return resolved.startswith(root if root.endswith(os.sep) else root + os.sep)


def resolve_in_scope(
    target: str | os.PathLike[str],
    roots: Sequence[Path],
    folders: dict[str, str] | None = None,
) -> Path:
    """`target` resolved; ScopeError unless it lies inside one of `roots`. `folders`:
    the folders resolved so far in this plan (a plan of many targets in few folders
    resolves each folder once; apply resolves the whole path again)."""
    text = _target_text(target)
    if folders is not None:
        return Path(resolve_text_in_scope(text, roots, folders)[0])
    resolved = _resolve(text)
    for root in roots:
        real_root = _resolve(root)
        if resolved != real_root and resolved.is_relative_to(real_root):
            return resolved
    _outside(text, resolved, roots)


def resolve_text_in_scope(
    target: str, roots: Sequence[Path], folders: dict[str, str]
) -> tuple[str, bool]:
    """`resolve_in_scope(target, roots, folders)` as text, and whether the target was
    seen missing on the way (no second look at it is needed then): a plan of many
    targets makes no Path per target."""
    text = _target_text(target)
    found, missing = _resolve_with(text, folders)
    if any(_inside_text(found, _resolved_root(r, folders)) for r in roots):
        return found, missing
    _outside(text, Path(found), roots)


def _target_text(target: str | os.PathLike[str]) -> str:
    text = os.fspath(target)
    if not text.strip():
        raise ScopeError("the target path is empty")
    if "\x00" in text:
        raise ScopeError("the target path contains a NUL character")
    return text


def _outside(text: str, resolved: Path, roots: Sequence[Path]) -> NoReturn:
    scope = ", ".join(str(r) for r in roots) or "none declared"
    shown = text if text == str(resolved) else f"{text} (resolves to {resolved})"
    raise ScopeError(f"target {shown} is outside the output scope ({scope})")


def recheck_target(path: str, scope: Sequence[str] | None) -> Path:
    """At apply: the planned, resolved target must still resolve to itself.

    A symlink created in its folders after planning (the write may wait days for an
    approval) would otherwise redirect the write.
    """
    target = Path(path)
    now = _resolve(target)
    if now != target:
        raise ScopeError(f"target {path} now resolves to {now}; it changed since it was planned")
    if scope is not None:
        resolve_in_scope(target, [Path(p) for p in scope])
    return target


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder; rename is durable enough there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


SyncDir = Callable[[Path], None]  # makes a rename in a folder durable (now or later)


class DirSync:
    """The folders a batch of writes renamed files in, each fsynced once by `flush`.

    A rename is durable only once its folder is fsynced; doing that once per folder
    per batch instead of once per file is what lets a batch of writes to one folder
    approach the cost of the files' own fsyncs. Whoever defers must flush before it
    says the writes are done (journal, database). Thread-safe."""

    def __init__(self) -> None:
        self._folders: dict[Path, None] = {}
        self._lock = threading.Lock()

    def defer(self, folder: Path) -> None:
        with self._lock:
            self._folders[folder] = None

    def flush(self) -> int:
        """fsync every deferred folder once; returns how many."""
        with self._lock:
            folders, self._folders = list(self._folders), {}
        for folder in folders:
            _fsync_dir(folder)
        return len(folders)


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.sophmate-tmp")


def _open_temp(path: Path) -> tuple[Path, int]:
    """A new temporary file beside `path`, created with the umask's usual permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = _temp_path(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(temp, flags, 0o666)
    try:
        os.chmod(temp, os.stat(path).st_mode & 0o7777)  # keep an existing file's mode
    except OSError:
        pass
    return temp, fd


class _Temp:
    """A temporary file being filled; closed exactly once."""

    def __init__(self, path: Path) -> None:
        self.path, self.fd = _open_temp(path)
        self.open = True

    def write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def close(self) -> None:
        if self.open:
            self.open = False
            os.close(self.fd)

    def commit(
        self,
        path: Path,
        before_replace: Callable[[], None] | None = None,
        sync_dir: SyncDir | None = None,
    ) -> None:
        os.fsync(self.fd)
        self.close()
        if before_replace is not None:
            # As late as it can be: the new content is on disk, only the rename is left.
            # A change between this check and os.replace (microseconds) is not seen;
            # without a lock the target's writers honour, no check can close it.
            before_replace()
        os.replace(self.path, path)
        (sync_dir or _fsync_dir)(path.parent)

    def discard(self) -> None:
        try:
            self.close()
        except OSError:
            pass
        try:
            os.unlink(self.path)
        except OSError:
            pass


def atomic_write(
    path: Path,
    data: bytes,
    before_replace: Callable[[], None] | None = None,
    sync_dir: SyncDir | None = None,
) -> None:
    """Write `data` to `path` through a temporary file, fsync and rename.

    Missing parent folders are created (the caller checked the scope). A reader sees
    the old content or the new one, never a mix; a crash leaves at most a temporary
    file beside the target. `before_replace` runs just before the rename and may raise
    to leave the target as it was (the preview check of a write). `sync_dir` makes the
    rename durable: by default the folder is fsynced at once; a `DirSync.defer` leaves
    that to the batch's flush.
    """
    temp = _Temp(path)
    try:
        temp.write(data)
        temp.commit(path, before_replace, sync_dir)
    except BaseException:
        temp.discard()
        raise


def atomic_copy(
    source: Path,
    path: Path,
    expected_sha256: str | None = None,
    before_replace: Callable[[], None] | None = None,
    sync_dir: SyncDir | None = None,
) -> int:
    """Copy `source` to `path` atomically; returns the bytes copied.

    With `expected_sha256` the copy is refused (nothing replaced) when the source no
    longer has the content that was planned and approved. `sync_dir`: as atomic_write.
    """
    temp = _Temp(path)
    digest = hashlib.sha256()
    size = 0
    try:
        with open(source, "rb") as src:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                temp.write(chunk)
        if expected_sha256 is not None and digest.hexdigest() != expected_sha256:
            raise Stale(
                f"the source {source} changed since it was planned "
                f"(sha256 {digest.hexdigest()[:12]}, planned {expected_sha256[:12]})"
            )
        try:
            shutil.copystat(source, temp.path)
        except OSError:
            pass
        temp.commit(path, before_replace, sync_dir)
    except BaseException:
        temp.discard()
        raise
    return size


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256_or_none(path: Path) -> str | None:
    """The sha256 of a regular file at `path`, or None when there is none."""
    try:
        if not path.is_file():
            return None
        return sha256_file(path)
    except OSError:
        return None
