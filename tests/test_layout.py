"""The layout of the tests: a test module imports shared helpers only from tests/support.

Fixtures live in conftest.py files and reach tests through pytest, never through an
import; plain helpers (functions, classes, constants) that more than one module uses
live in tests/support. So no file under tests/ may import from a conftest module, from
a test_* module, or from any other module of the tests package outside tests.support.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SUPPORT = "tests.support"


def module_name(path: Path) -> str:
    """The dotted name of a file under tests/ ("tests.gui.conftest")."""
    parts = path.relative_to(TESTS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, dotted name) of every module `source` imports, relative imports resolved
    against `module`; for `from X import a`, both X and X.a (a may be a module)."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def forbidden(name: str) -> bool:
    """A module of the tests that is not shared support: a conftest, a test module, or
    any other module of the tests package (old helper modules beside the tests)."""
    parts = name.split(".")
    if parts[0] == "conftest" or parts[-1] == "conftest":
        return True
    if parts[0] != "tests" or len(parts) == 1:
        return False
    return not (name == SUPPORT or name.startswith(SUPPORT + "."))


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    names = imported_modules(source, module, is_package)
    # `from tests.support import factories` names tests.support and tests.support.factories;
    # `from tests.gui import helpers` names tests.gui, which is enough to refuse it.
    return sorted({f"line {line}: {name}" for line, name in names if forbidden(name)})


def test_tests_import_shared_helpers_only_from_tests_support() -> None:
    # The check itself refuses what it should, and lets the support modules through.
    bad = """\
from tests.gui.conftest import make_window
from tests.engine.test_engine_runs import SLEEPER
import tests.gui.helpers
from tests.gui import helpers
from .conftest import EXAMPLES
from . import test_page
import conftest
"""
    assert violations(bad, "tests.gui.workflows.test_editor") == [
        "line 1: tests.gui.conftest",
        "line 1: tests.gui.conftest.make_window",
        "line 2: tests.engine.test_engine_runs",
        "line 2: tests.engine.test_engine_runs.SLEEPER",
        "line 3: tests.gui.helpers",
        "line 4: tests.gui",
        "line 4: tests.gui.helpers",
        "line 5: tests.gui.workflows.conftest",
        "line 5: tests.gui.workflows.conftest.EXAMPLES",
        "line 6: tests.gui.workflows",
        "line 6: tests.gui.workflows.test_page",
        "line 7: conftest",
    ]
    good = """\
from tests.support.factories import make_run
from tests.support import gui
import tests.support.mail
from ..support.engine import wait_until
import pytest
from sophmate_desktop.console import Console
"""
    assert violations(good, "tests.gui.test_main_window") == []

    files = sorted(TESTS.rglob("*.py"))
    assert len(files) > 50 and TESTS / "conftest.py" in files
    problems = {
        str(path.relative_to(TESTS.parent)): found
        for path in files
        if "__pycache__" not in path.parts
        and (
            found := violations(
                path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py"
            )
        )
    }
    assert problems == {}, (
        "import shared helpers from tests/support (fixtures come from conftest.py "
        f"through pytest): {problems}"
    )
