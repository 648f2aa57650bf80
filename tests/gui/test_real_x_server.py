"""The window on a real X server (Xvfb, Qt's xcb platform, a window manager and a
system tray) as a new user starts it on a 1024x768 screen: the platform check passes,
the demo's window opens, every page fits, "Pause all" stays on screen and the tray
icon is there; in a separate process, as `sophmate-desktop` runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.xserver import desktop, xvfb, xvfb_missing

SHOW = r"""
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from sophmate_desktop.platform_check import xcb_problem
problem = xcb_problem()
if problem:
    print(json.dumps({"problem": problem})); sys.exit(0)
app = QApplication(sys.argv[:1])
from sophmate_desktop.gui_app import open_window
from sophmate_desktop.ui import navigator as nav
from sophmate_desktop.ui.style import apply_style
apply_style(app)
window = open_window(app, sys.argv[1], None)
window.resize(1024, 700)
window.show()
out = {"platform": app.platformName(), "pages": {}}
def look():
    button = window.kill_switch_panel.pause_all_button
    for key in window.pages:
        if key == nav.WELCOME:
            continue
        window.show_page(key)
        app.processEvents()
        page = window.pages[key]
        inside = window.rect().contains(page.mapTo(window, page.rect().bottomRight()))
        out["pages"][key] = inside
    corner = button.mapTo(window, button.rect().bottomRight())
    out["pause_all_visible"] = button.isVisible() and window.rect().contains(corner)
    out["size"] = [window.width(), window.height()]
    window.grab().save(sys.argv[2])
    window.shutdown()
    app.quit()
def wait_for_tray(tries=[0]):
    tries[0] += 1
    if window.tray.look_for_tray() or tries[0] > 50:  # the tray host may start after us
        out["tray"] = window.tray.tray is not None and window.tray.tray.isVisible()
        look()
    else:
        QTimer.singleShot(100, wait_for_tray)
QTimer.singleShot(500, wait_for_tray)
app.exec()
print(json.dumps(out))
"""


@pytest.mark.slow
def test_the_demo_window_opens_on_a_real_x_server_and_fits(tmp_path: Path) -> None:
    missing = xvfb_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs a real X server: {missing}")
        pytest.skip(missing)
    url = f"sqlite:///{tmp_path / 'sm.sqlite3'}"
    env = {
        k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "SOPHMATE_DB")
    } | {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "PYTHON_KEYRING_BACKEND": "tests.support.inmemory_keyring.InMemoryKeyring",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    demo = subprocess.run(
        [sys.executable, "-m", "sophmate_desktop", "--db", url, "demo"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    shot = tmp_path / "window.png"
    with xvfb(1024, 768) as display, desktop(display):
        shown = subprocess.run(
            [sys.executable, "-c", SHOW, url, str(shot)],
            env=env | {"DISPLAY": display}, capture_output=True, text=True, timeout=120,
        )
    assert shown.returncode == 0, shown.stderr
    result = json.loads(shown.stdout.strip().splitlines()[-1])
    assert "problem" not in result, result.get("problem")  # the xcb libraries are there
    assert result["platform"] == "xcb"
    assert result["size"] == [1024, 700]
    assert result["pause_all_visible"]
    assert result["tray"]  # the tray icon shows in the desktop's tray
    assert result["pages"] and all(result["pages"].values()), result["pages"]
    assert shot.stat().st_size > 10_000  # a real picture of the window
