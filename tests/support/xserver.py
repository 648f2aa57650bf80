"""A real X server for a test (Xvfb on a display of its own), so the window runs on
Qt's xcb platform as on a desktop, not only offscreen."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator


def xvfb_missing() -> str | None:
    missing = [name for name in ("Xvfb", "openbox", "trayer") if not shutil.which(name)]
    if missing:
        return f"{', '.join(missing)} not installed (apt-get install xvfb openbox trayer)"
    return None


@contextlib.contextmanager
def desktop(display: str) -> Iterator[None]:
    """A window manager (openbox) and a system tray (trayer) on `display`, as a
    desktop session has them."""
    env = os.environ | {"DISPLAY": display}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    procs = [
        subprocess.Popen(["openbox"], **quiet),
        subprocess.Popen(["trayer", "--edge", "bottom", "--height", "24"], **quiet),
    ]
    try:
        yield
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


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
