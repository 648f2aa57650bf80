"""Where the shipped example workflows, icons and style sheet are."""

from __future__ import annotations

from pathlib import Path

_REPO_RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def resources_dir() -> Path:
    """The `resources/` folder of a source checkout or an editable install."""
    if not _REPO_RESOURCES.is_dir():
        raise FileNotFoundError(f"resources not found at {_REPO_RESOURCES}")
    return _REPO_RESOURCES


def example_workflows() -> list[Path]:
    return sorted((resources_dir() / "workflows").glob("*.yaml"))
