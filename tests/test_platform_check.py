"""The start names the system packages Qt's xcb platform lacks (ldd on the plug-in),
instead of Qt aborting with the name of the wrong library."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sophmate_desktop import platform_check as pc

REPO = Path(__file__).resolve().parents[1]


def test_package_names_follow_debians_rule() -> None:
    assert pc.package_of("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert pc.package_of("libxcb-keysyms.so.1") == "libxcb-keysyms1"
    assert pc.package_of("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert pc.package_of("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert pc.package_of("libdbus-1.so.3") == "libdbus-1-3"
    assert pc.package_of("libEGL.so.1") == "libegl1"


def test_uses_xcb_when_asked_or_on_plain_x11() -> None:
    assert pc.uses_xcb({"QT_QPA_PLATFORM": "xcb"})
    assert not pc.uses_xcb({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"})
    assert pc.uses_xcb({"DISPLAY": ":0"})
    assert not pc.uses_xcb({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"})
    assert pc.xcb_problem({"QT_QPA_PLATFORM": "offscreen"}) is None


def test_the_packages_are_those_ldd_finds_missing() -> None:
    plugin = pc.xcb_plugin()
    assert plugin is not None and plugin.name == "libqxcb.so"
    out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True).stdout
    not_found = sorted({line.split()[0] for line in out.splitlines() if "not found" in line})
    assert sorted(pc.missing_libraries(out)) == not_found
    assert sorted(pc.missing_packages()) == sorted({pc.package_of(n) for n in not_found})


def test_the_window_start_names_what_to_install(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", DISPLAY=":99", HOME=str(tmp_path))
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env.pop("SOPHMATE_DB", None)
    missing = pc.missing_packages()
    if not missing:  # a machine with every library: the check lets Qt start
        assert pc.xcb_problem({"QT_QPA_PLATFORM": "xcb"}) is None
        return
    done = subprocess.run(
        [sys.executable, "-m", "sophmate_desktop"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"sudo apt-get install {' '.join(missing)}" in done.stderr
    assert "Could not load the Qt platform plugin" not in done.stderr
    assert not (tmp_path / "data").exists()  # nothing created
