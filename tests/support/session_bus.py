"""A private D-Bus session bus (dbus-daemon) with a freedesktop Notifications service
(tests/support/notification_daemon.py) on it, each in its own process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.support.paths import REPO


class SessionBus:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.received = folder / "notifications.jsonl"
        self._procs: list[subprocess.Popen] = []
        self.address = ""

    @staticmethod
    def missing() -> str | None:
        """Why a session bus cannot be started here, or None."""
        if shutil.which("dbus-daemon") is None:
            return "no dbus-daemon on this machine (apt install dbus)"
        return None

    def start(self) -> SessionBus:
        daemon = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self._procs.append(daemon)
        self.address = daemon.stdout.readline().strip()
        return self

    def start_notifications(self, env: dict) -> None:
        service = subprocess.Popen(
            [sys.executable, "-m", "tests.support.notification_daemon", str(self.received)],
            cwd=REPO,
            env=env,
        )
        self._procs.append(service)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.received.exists() and "ready" in self.received.read_text():
                return
            time.sleep(0.02)
        raise TimeoutError("the notifications service did not start")

    def notifications(self) -> list[dict]:
        if not self.received.exists():
            return []
        rows = [json.loads(line) for line in self.received.read_text().splitlines() if line]
        return [r for r in rows if "summary" in r]

    def stop(self) -> None:
        for proc in reversed(self._procs):
            proc.terminate()
            proc.wait(5)
