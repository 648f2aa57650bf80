"""Screenshots of every page on demo data, rendered offscreen.

    python -m sophmate_desktop.tools.screenshots DIR [--palette light|dark|both]

Makes a temporary data folder, loads the demo there with the real engine, opens the
main window on it (offscreen, 1024x700: the window of a 1024x768 laptop screen) and
saves one PNG per page into DIR, in the light palette, and into DIR/dark in a dark
one (the style sheet follows the palette). Secrets
live in an in-memory keyring for the run: the tool never touches your real keyring,
your data folder or your config.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

WIDTH, HEIGHT = 1024, 700
ACTOR = "ana"  # the person at the window: neither the demo's lead nor its approver
PAGE_SHOTS = (
    "dashboard",
    "inbox",
    "workflows",
    "runs",
    "runs-grid",
    "audit",
    "reviews",
    "notifications",
    "settings",
    "welcome",
)
SHOTS = ("paused", *PAGE_SHOTS)  # "paused": the window while a category is paused


def _isolate(tmp: Path) -> None:
    """Environment of the run: offscreen Qt, the temporary folders, a memory keyring."""
    import keyring

    from sophmate_desktop.tools.memory_keyring import MemoryKeyring

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.pop("SOPHMATE_DB", None)
    os.environ.pop("SOPHMATE_ALLOW_INSECURE_KEYRING", None)
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")
    os.environ["XDG_DATA_HOME"] = str(tmp)
    keyring.set_keyring(MemoryKeyring())


def _make_demo(url: str, folder: Path, say: Callable[[str], None]) -> None:
    from sophmate_desktop.console import Console
    from sophmate_desktop.console.demo import load_demo
    from sophmate_desktop.store.database import open_database

    db = open_database(url)
    try:
        lead = Console(db, actor="demo-lead")
        approver = Console(db, actor="demo-approver")
        lead.set_secret("status_api_token", "demo-token-for-screenshots")
        load_demo(lead, approver, folder, progress=say)
    finally:
        db.close()


class _Camera:
    def __init__(self, window, out: Path, say: Callable[[str], None]) -> None:
        self.window = window
        self.out = out
        self.say = say
        self.saved: list[Path] = []
        self.problems: list[str] = []

    def settle(self, ms: int = 400) -> None:
        """Let background tasks, debounced refreshes and layouts finish."""
        from PySide6.QtCore import QEventLoop, QTimer
        from PySide6.QtWidgets import QApplication

        tasks = self.window.services.tasks
        deadline = time.monotonic() + 30
        while tasks.busy and time.monotonic() < deadline:
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def shoot(self, name: str, show: Callable[[], None]) -> None:
        try:
            show()
        except Exception as exc:  # a page still being written: save what is there
            self.problems.append(f"{name}: {type(exc).__name__}: {exc}")
            self.say(f"warning: {name}: {type(exc).__name__}: {exc}")
        self.settle()
        path = self.out / f"{name}.png"
        pixmap = self.window.grab()
        if pixmap.width() != WIDTH or pixmap.height() != HEIGHT:
            self.problems.append(f"{name}: grabbed {pixmap.width()}x{pixmap.height()}")
        if not pixmap.save(str(path), "PNG"):
            self.problems.append(f"{name}: could not write {path}")
            return
        self.saved.append(path)
        self.say(f"saved {path}")


def _page_call(window, key: str, method: str, *args) -> Callable[[], None]:
    """Show page `key` through the navigator, asking it for a record when it can."""

    def show() -> None:
        page = window.page(key)
        if args and hasattr(page, method):
            getattr(window.services.navigator, method)(*args)
            return
        window.services.navigator.show_page(key)
        if args:
            raise AttributeError(f"the {key} page has no {method}() yet")

    return show


def _show_grid(window) -> None:
    from sophmate_desktop.ui import navigator as nav

    window.go_to(nav.RUNS)  # the runs' list, then its Grid tab
    runs = window.page(nav.RUNS)
    runs.views.setCurrentWidget(runs.grid)


def _pick_records(console) -> dict[str, object]:
    writes = console.list_inbox(limit=1)
    runs = console.list_runs(limit=1000)
    approved = [r for r in runs if r.workflow == "report-archive" and r.mode == "staging"]
    failed = [r for r in runs if r.status == "failed"]
    run = (approved or failed or runs or [None])[-1]
    return {
        "write": writes[0].id if writes else None,
        "run": run.id if run is not None else None,
        "workflow": "invoice-intake",
    }


def take_screenshots(
    out: Path, say: Callable[[str], None] = print, palette: str = "light"
) -> list[Path]:
    """Render every page on fresh demo data into `out` in the `palette` ("light": the
    default palette, "dark"); returns the PNGs written."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sophmate-") as tmp_name:
        tmp = Path(tmp_name)
        _isolate(tmp)
        data = tmp / "sophmate-desktop"  # the user data folder, as the app lays it out
        url = f"sqlite:///{data / 'sophmate.sqlite3'}"
        say(f"loading the demo into {data}")
        _make_demo(url, data / "demo", say)

        from PySide6.QtWidgets import QApplication

        from sophmate_desktop.app import create_window
        from sophmate_desktop.ui import navigator as nav
        from sophmate_desktop.ui.style import apply_style, dark_palette

        app = QApplication.instance() or QApplication([sys.argv[0]])
        from PySide6.QtGui import QPalette

        apply_style(app, dark_palette() if palette == "dark" else QPalette())
        window = create_window(url, actor=ACTOR, start_engine=False)
        try:
            window.setFixedSize(WIDTH, HEIGHT)
            window.show()
            camera = _Camera(window, out, say)
            camera.settle()
            console = window.services.console
            camera.shoot("paused", lambda: window.show_page(nav.DASHBOARD))
            console.resume_category("maintenance", "screenshots: resumed, held runs kept")
            picked = _pick_records(console)
            calls = {
                "inbox": _page_call(window, nav.INBOX, "show_write", picked["write"]),
                "workflows": _page_call(window, nav.WORKFLOWS, "show_workflow", picked["workflow"]),
                "runs": _page_call(window, nav.RUNS, "show_run", picked["run"]),
                "runs-grid": lambda: _show_grid(window),
            }
            for name in PAGE_SHOTS:
                camera.shoot(name, calls.get(name) or (lambda k=name: window.show_page(k)))
        finally:
            window.shutdown()
            window.deleteLater()
        for problem in camera.problems:
            say(f"problem: {problem}")
        return camera.saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sophmate_desktop.tools.screenshots",
        description="Render every page of SophMate Desktop on demo data into PNG files.",
    )
    parser.add_argument("out", metavar="DIR", help="folder for the PNG files")
    parser.add_argument(
        "--palette",
        choices=("light", "dark", "both"),
        default="both",
        help="light shots in DIR, dark ones in DIR/dark (default: both)",
    )
    args = parser.parse_args(argv)
    wanted = ("light", "dark") if args.palette == "both" else (args.palette,)
    total = 0
    for palette in wanted:
        out = Path(args.out) / ("dark" if palette == "dark" else "")
        saved = take_screenshots(out, palette=palette)
        missing = [name for name in SHOTS if out / f"{name}.png" not in saved]
        if missing:
            print(f"error: not saved ({palette}): {', '.join(missing)}", file=sys.stderr)
            return 1
        total += len(saved)
    print(f"{total} screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
