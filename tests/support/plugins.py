"""Installing a custom-action plug-in for a test: a module and its distribution
metadata in a folder on sys.path, found through the entry-point group."""

from __future__ import annotations

import contextlib
import importlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

from sophmate_desktop.engine.actions import refresh

EXAMPLE = Path(__file__).resolve().parent / "example_plugin"
EXAMPLE_MODULE = "sophmate_example_plugin"


def write_dist(site: Path, name: str, version: str, entry_points: str) -> Path:
    """The dist-info of distribution `name` at `version` declaring `entry_points`."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        f"[sophmate_desktop.actions]\n{entry_points}\n", encoding="utf-8"
    )
    return info


@contextlib.contextmanager
def installed_plugin(
    site: Path, module: str, source: str, dist: str, version: str, entry_points: str
) -> Iterator[Path]:
    """`source` as `module`.py in `site`, installed as `dist` `version`; removed after."""
    site.mkdir(exist_ok=True)
    (site / f"{module}.py").write_text(source, encoding="utf-8")
    write_dist(site, dist, version, entry_points)
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    refresh()
    try:
        yield site
    finally:
        sys.path.remove(str(site))
        sys.modules.pop(module, None)
        importlib.invalidate_caches()
        refresh()


EXAMPLE_DIST = "sophmate-example-plugin"
EXAMPLE_ENTRY = f"append_line = {EXAMPLE_MODULE}:AppendLine"


def installed_example_plugin(site: Path, version: str = "1.2.0"):
    """tests/support/example_plugin's `append_line` action, installed in `site`."""
    source = (EXAMPLE / f"{EXAMPLE_MODULE}.py").read_text(encoding="utf-8")
    return installed_plugin(site, EXAMPLE_MODULE, source, EXAMPLE_DIST, version, EXAMPLE_ENTRY)


def update_example_plugin(site: Path, version: str) -> None:
    """Replace the installed example plug-in's version (a plug-in update)."""
    for info in site.glob(f"{EXAMPLE_DIST.replace('-', '_')}-*.dist-info"):
        shutil.rmtree(info)
    write_dist(site, EXAMPLE_DIST, version, EXAMPLE_ENTRY)
    importlib.invalidate_caches()
    refresh()
