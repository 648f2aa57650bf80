"""Checks that an installed or frozen SophMate Desktop carries everything it loads
at run time: resources, keyring backends, the watchdog observer, migrations, psycopg,
Qt plug-ins, and that the window opens.

    SOPHMATE_FROZEN_SELFTEST=1 dist/sophmate-desktop/sophmate-desktop
    /path/to/venv/bin/python packaging/selftest.py

Use QT_QPA_PLATFORM=offscreen without a display. Prints one JSON object, each check
with "ok" and what it found; exits 1 if any check failed. It writes only below a
temporary folder.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from importlib import import_module
from importlib.metadata import entry_points, version
from pathlib import Path
from typing import Any

KEYRING_BACKENDS = ["SecretService", "kwallet", "libsecret", "chainer", "fail", "null"]


def check_metadata() -> str:
    from sophmate_desktop import __version__

    found = version("sophmate-desktop")
    assert found == __version__, f"metadata says {found}, package says {__version__}"
    return found


def check_resources() -> dict[str, Any]:
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from sophmate_desktop import resources
    from sophmate_desktop.domain.workflow_file import parse_workflow_yaml

    app = QApplication.instance() or QApplication(sys.argv[:1])
    workflows = [parse_workflow_yaml(p.read_bytes()).name for p in resources.example_workflows()]
    assert workflows, "no example workflows"
    # QIcon from a file path goes through the svg icon-engine plug-in.
    empty = [
        n for n in resources.icon_names() if QIcon(str(resources.icon_path(n))).pixmap(24).isNull()
    ]
    assert not empty, f"icons that do not draw: {empty}"
    app.setStyleSheet(resources.style_sheet())
    return {
        "platform": app.platformName(),
        "workflows": workflows,
        "folder": str(resources.example_workflows()[0].parent.parent),
        "icons": len(resources.icon_names()),
    }


def check_keyring() -> dict[str, Any]:
    import keyring

    for name in KEYRING_BACKENDS:
        import_module(f"keyring.backends.{name}")
    return {"backend": type(keyring.get_keyring()).__module__}


def check_watchdog() -> str:
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    import_module("watchdog.observers.polling")
    seen = threading.Event()

    class Handler(FileSystemEventHandler):
        def on_created(self, event: Any) -> None:
            if event.src_path.endswith("probe.txt"):
                seen.set()

    with tempfile.TemporaryDirectory() as folder:
        observer = Observer()
        observer.schedule(Handler(), folder)
        observer.start()
        try:
            Path(folder, "probe.txt").write_text("x")
            assert seen.wait(10), "no event for a new file within 10 s"
        finally:
            observer.stop()
            observer.join(5)
    return type(observer).__name__


def check_store() -> int:
    import_module("playhouse.migrations")
    from sophmate_desktop.store.database import MIGRATIONS_DIR

    scripts = sorted(MIGRATIONS_DIR.glob("[0-9]*.py"))
    assert scripts, f"no migrations in {MIGRATIONS_DIR}"
    return len(scripts)


def check_window() -> dict[str, Any]:
    """The main window on a database that does not exist yet: it opens on welcome."""
    from PySide6.QtWidgets import QApplication

    from sophmate_desktop.app import create_window
    from sophmate_desktop.ui.style import apply_style

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_style(app)
    saved = {k: os.environ.get(k) for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME")}
    with tempfile.TemporaryDirectory() as folder:
        for key in saved:  # the user's own settings stay untouched
            os.environ[key] = str(Path(folder, key.lower()))
        try:
            window = create_window(f"sqlite:///{Path(folder, 'selftest.sqlite3')}")
            try:
                window.show()
                deadline = time.monotonic() + 10
                while not window.isVisible() and time.monotonic() < deadline:
                    app.processEvents()
                assert window.isVisible(), "the window did not show within 10 s"
                app.processEvents()
                return {"title": window.windowTitle(), "page": window.current_page_key()}
            finally:
                window.shutdown()
                window.deleteLater()
                app.processEvents()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def check_psycopg() -> str:
    try:
        import psycopg
    except ImportError:
        return "not bundled"
    return f"{psycopg.__version__} ({psycopg.pq.__impl__})"


def check_plugins() -> list[str]:
    from sophmate_desktop.engine.actions.registry import GROUP

    return sorted(ep.name for ep in entry_points(group=GROUP))


CHECKS: dict[str, Callable[[], Any]] = {
    "metadata": check_metadata,
    "resources": check_resources,
    "keyring": check_keyring,
    "watchdog": check_watchdog,
    "store": check_store,
    "psycopg": check_psycopg,
    "plugins": check_plugins,
    "window": check_window,
}


def main() -> int:
    report: dict[str, Any] = {"frozen": bool(getattr(sys, "frozen", False))}
    ok = True
    for name, check in CHECKS.items():
        try:
            report[name] = {"ok": True, "found": check()}
        except Exception as exc:
            ok = False
            report[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            traceback.print_exc()
    print(json.dumps(report, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
