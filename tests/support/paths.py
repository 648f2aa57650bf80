"""Where things are: the repository root and the example workflow files it ships."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import sophmate_desktop.resources

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = Path(sophmate_desktop.resources.__file__).parent / "workflows"


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Callable[[], None]]:
    """`folder` refuses new files until the callable given makes it writable again (or
    the block ends). Root writes into a mode-0555 folder anyway: it is made immutable
    instead (chattr +i; skipped where the file system cannot)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        undo = [lambda: folder.chmod(0o755)]
    else:
        made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"cannot make {folder} read-only as root: {made.stderr.strip()}")
        undo = [lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)]

    def writable() -> None:
        while undo:
            undo.pop()()

    try:
        yield writable
    finally:
        writable()
