"""`python -m sophmate_desktop.tools.screenshots DIR` renders every page to a PNG."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from sophmate_desktop.tools.screenshots import HEIGHT, SHOTS, WIDTH

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE and head[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


@pytest.mark.slow
def test_the_tool_writes_one_png_per_page_at_the_window_size(tmp_path: Path):
    out = tmp_path / "shots"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("SOPHMATE_DB", None)
    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "faulthandler",
            "-m",
            "sophmate_desktop.tools.screenshots",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    written = sorted(p.name for p in out.glob("*.png"))
    assert written == sorted(f"{name}.png" for name in SHOTS)
    for name in SHOTS:
        path = out / f"{name}.png"
        assert path.stat().st_size > 10_000, f"{path} is nearly empty"
        assert png_size(path) == (WIDTH, HEIGHT)
    assert "loading the demo" in done.stdout
