"""Desktop integration files in packaging/: the .desktop entry, the AppStream
metainfo and the hicolor icons agree with each other and with the project."""

from __future__ import annotations

import configparser
import importlib.util
import shutil
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest
from PySide6.QtGui import QImage

from sophmate_desktop import __version__, resources

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"
APP_ID = "io.sophmate.Desktop"
DESKTOP = PACKAGING / f"{APP_ID}.desktop"
METAINFO = PACKAGING / f"{APP_ID}.metainfo.xml"
SIZES = [16, 24, 32, 48, 64, 128, 256]


def project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(DESKTOP.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def load_render_icons() -> ModuleType:
    # packaging/ is no Python package (the name would shadow PyPI's `packaging`).
    spec = importlib.util.spec_from_file_location("render_icons", PACKAGING / "render_icons.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_desktop_entry_launches_the_installed_gui_script() -> None:
    entry = desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"] == "SophMate Desktop"
    assert entry["Exec"] in project()["gui-scripts"]
    assert entry["Icon"] == APP_ID
    assert entry["Terminal"] == "false"
    categories = entry["Categories"]
    assert categories.endswith(";") and {"Office", "Utility"} <= set(categories.split(";"))
    assert entry["Comment"] and entry["Keywords"].endswith(";")


def test_metainfo_names_the_desktop_file_the_version_and_a_rating() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    launchable = root.find("launchable")
    assert launchable is not None and launchable.get("type") == "desktop-id"
    assert launchable.text == DESKTOP.name
    assert root.findtext("name") == desktop_entry()["Name"]
    assert root.findtext("summary") and root.findtext("metadata_license") == "CC0-1.0"
    assert root.findtext("provides/binary") == desktop_entry()["Exec"]
    versions = [r.get("version") for r in root.iter("release")]
    assert versions and versions[0] == __version__ == project()["version"]
    rating = root.find("content_rating")
    assert rating is not None and rating.get("type", "").startswith("oars-")
    images = [i.text or "" for i in root.iter("image")]
    assert images and all(i.startswith("https://") and i.endswith(".png") for i in images)
    shots = REPO / "docs" / "screenshots"
    assert [i for i in images if not (shots / i.rsplit("/", 1)[1]).is_file()] == []
    assert len(root.findall("screenshots/screenshot[@type='default']")) == 1


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils")
def test_desktop_file_validates() -> None:
    done = subprocess.run(
        ["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True, timeout=30
    )
    errors = [line for line in done.stdout.splitlines() if "error:" in line]
    assert done.returncode == 0 and not errors, done.stdout + done.stderr


@pytest.mark.skipif(not shutil.which("appstreamcli"), reason="appstream")
def test_metainfo_validates() -> None:
    done = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(METAINFO)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_hicolor_icons_are_the_app_icon_in_every_size(qapp) -> None:
    hicolor = PACKAGING / "icons" / "hicolor"
    scalable = hicolor / "scalable" / "apps" / f"{APP_ID}.svg"
    assert scalable.read_bytes() == resources.icon_bytes("app")
    render_png = load_render_icons().render_png
    for size in SIZES:
        committed = QImage(str(hicolor / f"{size}x{size}" / "apps" / f"{APP_ID}.png"))
        assert (committed.width(), committed.height()) == (size, size)
        fresh = QImage.fromData(render_png(resources.icon_bytes("app"), size))
        # Another Qt release may anti-alias a little differently: compare loosely.
        diff = sum(
            abs(committed.pixelColor(x, y).red() - fresh.pixelColor(x, y).red())
            + abs(committed.pixelColor(x, y).alpha() - fresh.pixelColor(x, y).alpha())
            for x in range(size)
            for y in range(size)
        )
        assert diff / (size * size) < 8, f"{size}px icon is stale: run render_icons.py"
