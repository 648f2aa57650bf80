"""A real X server for a test (Xvfb on a display of its own), so the window runs on
Qt's xcb platform as on a desktop, not only offscreen."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator


def xvfb_missing() -> str | None:
    return None if shutil.which("Xvfb") else "Xvfb is not installed (apt-get install xvfb)"


@contextlib.contextmanager
def xvfb(width: int = 1024, height: int = 768) -> Iterator[str]:
    """Start Xvfb on a free display; yields its DISPLAY (":N")."""
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24",
         "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as fh:
            number = fh.readline().strip()  # Xvfb writes the display once it is ready
        assert number, "Xvfb did not start"
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(10)
