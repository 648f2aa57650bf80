"""Before the window opens on X11: does Qt's xcb platform plug-in find its libraries?

On a fresh Debian/Ubuntu machine libxcb-icccm4 and libxcb-keysyms1 are missing, Qt
aborts and its message names libxcb-cursor0 instead. `ldd` on the plug-in tells the
truth; this names the packages to install (`apt-get install ...`). Standard library
only: it runs before Qt is loaded.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

_MISSING = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)
_SONAME = re.compile(r"^(lib[\w+.-]+?)\.so\.(\d+)")


def xcb_plugin() -> Path | None:
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "Qt/plugins/platforms/libqxcb.so"
    return path if path.exists() else None


def package_of(soname: str) -> str:
    """The Debian/Ubuntu package that ships `soname`, by the naming rule
    (libxcb-icccm.so.4 -> libxcb-icccm4, libxkbcommon-x11.so.0 -> libxkbcommon-x11-0)."""
    found = _SONAME.match(soname)
    if found is None:
        return soname
    name, major = found.group(1).lower(), found.group(2)
    return f"{name}-{major}" if name[-1].isdigit() else f"{name}{major}"


def missing_libraries(ldd_output: str) -> list[str]:
    """The "not found" libraries of `ldd` output, each once, in order."""
    return list(dict.fromkeys(_MISSING.findall(ldd_output)))


def missing_packages(plugin: Path | None = None) -> list[str]:
    """The packages the xcb plug-in lacks ([] when it is complete or cannot be checked)."""
    plugin = plugin or xcb_plugin()
    ldd = shutil.which("ldd")
    if plugin is None or ldd is None or not sys.platform.startswith("linux"):
        return []
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return list(dict.fromkeys(package_of(lib) for lib in missing_libraries(out.stdout)))


def uses_xcb(environ: dict[str, str] | None = None) -> bool:
    """Qt would pick xcb: asked for, or on X11 with no other platform named."""
    env = os.environ if environ is None else environ
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(":")[0] == "xcb"
    return bool(env.get("DISPLAY")) and not env.get("WAYLAND_DISPLAY")


def xcb_problem(environ: dict[str, str] | None = None) -> str | None:
    """What to tell a person whose window cannot open (None: nothing is missing)."""
    if not uses_xcb(environ):
        return None
    packages = missing_packages()
    if not packages:
        return None
    return (
        "the window cannot open: Qt's X11 platform (xcb) lacks "
        f"{', '.join(packages)}. Install them with: sudo apt-get install {' '.join(packages)}"
    )
