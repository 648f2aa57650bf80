"""One way to reach the database: the `Database` a caller opened (`Console.db`,
`Engine.db`) is passed to every function that runs SQL or a transaction; the models'
proxy is bound once, in store/database.py, and read nowhere else."""

from __future__ import annotations

import ast
from pathlib import Path

import sophmate_desktop

SOURCE = Path(sophmate_desktop.__file__).parent
BINDS_THE_PROXY = {"store/models.py", "store/database.py"}


def proxy_uses(tree: ast.AST) -> list[int]:
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Name) and node.id == "database_proxy")
        or (isinstance(node, ast.alias) and node.name == "database_proxy")
    )


def test_the_scan_finds_the_proxy() -> None:
    source = "from x import database_proxy\ndb = database_proxy.obj\n"
    assert proxy_uses(ast.parse(source)) == [1, 2]


def test_no_module_but_the_binding_one_reaches_the_proxy() -> None:
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        rel = path.relative_to(SOURCE).as_posix()
        if rel in BINDS_THE_PROXY or rel.startswith("store/migrations/"):
            continue
        found += [f"{rel}:{line}" for line in proxy_uses(ast.parse(path.read_text()))]
    assert found == []
