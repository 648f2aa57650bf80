"""Headless engines (`python -m sophmate_desktop --db URL engine`) as processes of
their own, as on separate desktops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.paths import REPO


def engine_process(
    url: str, tmp_path: Path, n: int, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """`env`: more environment (SOPHMATE_ENGINE_HOST: a desktop of its own)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(REPO),
        "PYTHON_KEYRING_BACKEND": "tests.support.inmemory_keyring.InMemoryKeyring",
        **(env or {}),
    }
    log = tmp_path / f"engine-{n}.log"
    cmd = [sys.executable, "-m", "sophmate_desktop", "--db", url, "engine", "--log-file", str(log)]
    return subprocess.Popen(
        [*cmd, *args],
        cwd=str(REPO),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def stop_engine(proc: subprocess.Popen, timeout: float = 20) -> int | None:
    """SIGTERM, then its exit status (killed after `timeout`)."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        return None
