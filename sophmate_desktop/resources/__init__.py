"""The files that ship inside the package: example workflows, icons, the style sheet.

Everything is read through `importlib.resources`, so it works from a source checkout,
an installed wheel and a one-folder frozen build alike. Functions that hand out a
`Path` use `as_file`: on a real file system that is the file itself; from a zip import
it is a temporary copy that lives until the process exits.
"""

from __future__ import annotations

import atexit
import re
from contextlib import ExitStack
from functools import cache
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path

ICONS = "icons"
WORKFLOWS = "workflows"
STYLE_SHEET = "style.qss"
_ICON_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")

_extracted = ExitStack()
atexit.register(_extracted.close)


def root() -> Traversable:
    """The `sophmate_desktop/resources` folder as importlib sees it."""
    return files(__name__)


@cache
def _as_path(*parts: str) -> Path:
    return _extracted.enter_context(as_file(root().joinpath(*parts)))


def example_workflows() -> list[Path]:
    """The example workflow files (`*.yaml`), sorted by name."""
    found = [f for f in root().joinpath(WORKFLOWS).iterdir() if f.name.endswith(".yaml")]
    return [_as_path(WORKFLOWS, name) for name in sorted(f.name for f in found)]


def example_workflow_texts() -> list[tuple[str, str]]:
    """(file name, YAML text) of each example workflow, sorted by name."""
    return [(p.name, p.read_text(encoding="utf-8")) for p in example_workflows()]


def icon_names() -> list[str]:
    """Names of the shipped icons, without `.svg`."""
    icons = root().joinpath(ICONS).iterdir()
    return sorted(f.name.removesuffix(".svg") for f in icons if f.name.endswith(".svg"))


def _icon_file(name: str) -> str:
    stem = name.removesuffix(".svg")
    if not _ICON_NAME.match(stem):
        raise ValueError(f"bad icon name {name!r}")
    if not root().joinpath(ICONS, f"{stem}.svg").is_file():
        raise FileNotFoundError(f"no icon {stem!r}; shipped: {', '.join(icon_names())}")
    return f"{stem}.svg"


def icon_bytes(name: str) -> bytes:
    """The SVG source of icon `name` ("app", "tray-ok", "inbox", ...; `.svg` optional)."""
    return root().joinpath(ICONS, _icon_file(name)).read_bytes()


def icon_path(name: str) -> Path:
    """A file path to icon `name`, valid until the process exits."""
    return _as_path(ICONS, _icon_file(name))


def style_sheet() -> str:
    """The application's Qt style sheet."""
    return root().joinpath(STYLE_SHEET).read_text(encoding="utf-8")
