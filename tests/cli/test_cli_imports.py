"""What a command imports, seen in a real process: a pause on SQLite imports neither Qt
nor psycopg nor the engine nor the workflow-file parser (jinja2, yaml); `--version`
imports no store at all; a keyring found unusable is not searched again for a while.
Also the parser table that lets a command build only its own parsers."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sophmate_desktop import cli_parser, keyring_memo
from tests.support.paths import EXAMPLES, REPO

# Runs the command line like `python -m sophmate_desktop`, then writes the names of the
# modules it imported to the file named by the first argument.
WRAPPER = """\
import json, sys
from sophmate_desktop import app
out, args = sys.argv[1], sys.argv[2:]
code = app.main(args)
with open(out, "w") as fh:
    json.dump(sorted(sys.modules), fh)
sys.exit(code)
"""
NEVER_FOR_A_PAUSE = ("PySide6", "psycopg", "psycopg2", "sophmate_desktop.engine", "jinja2", "yaml")
MEMORY_KEYRING = "tests.support.inmemory_keyring.InMemoryKeyring"


def _loaded(names: list[str], package: str) -> list[str]:
    return [n for n in names if n == package or n.startswith(package + ".")]


@pytest.fixture
def run(sqlite_url: str, tmp_path: Path):
    """run(*args, keyring=...) -> (completed process, imported module names)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SOPHMATE_", "XDG_"))}
    base.update(PYTHONPATH=str(REPO), XDG_CACHE_HOME=str(tmp_path / "cache"))

    def run(*args: str, keyring: str = MEMORY_KEYRING) -> tuple[subprocess.CompletedProcess, list]:
        modules = tmp_path / "modules.json"
        modules.unlink(missing_ok=True)
        env = {**base, "PYTHON_KEYRING_BACKEND": keyring}
        done = subprocess.run(
            [sys.executable, "-c", WRAPPER, str(modules), *args],
            env=env,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        return done, json.loads(modules.read_text()) if modules.exists() else []

    db = ["--db", sqlite_url]
    assert run(*db, "init")[0].returncode == 0
    imported, _ = run(*db, "workflow", "import", str(EXAMPLES / "report-archive.yaml"))
    assert imported.returncode == 0, imported.stderr
    return lambda *args, **kw: run(*db, *args, **kw)


def test_a_pause_on_sqlite_imports_no_qt_postgres_engine_or_workflow_parser(run) -> None:
    done, modules = run("category", "pause", "reporting", "--reason", "incident")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("category reporting PAUSED")
    for package in NEVER_FOR_A_PAUSE:
        assert _loaded(modules, package) == [], package
    # The console's other groups of operations are not imported either.
    assert "sophmate_desktop.console.composed" not in modules
    assert "sophmate_desktop.console.inbox" not in modules
    assert "playhouse.migrations" not in modules  # the schema is current: no runner

    listed, modules = run("category", "list", "--json")
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["reporting"]["paused"] is True and rows["reporting"]["paused_reason"] == "incident"
    assert _loaded(modules, "sophmate_desktop.engine") == []
    events, _ = run("audit", "list", "--json")
    assert "category.paused" in [e["action"] for e in json.loads(events.stdout)]


def test_version_imports_no_store_console_or_peewee(run) -> None:
    done, modules = run("--version")
    assert done.returncode == 0 and done.stdout.startswith("sophmate-desktop ")
    for package in ("peewee", "sophmate_desktop.store", "sophmate_desktop.console", "keyring"):
        assert _loaded(modules, package) == [], package


def test_a_keyring_without_a_usable_backend_is_not_searched_again_within_a_minute(
    run, tmp_path: Path
) -> None:
    memo = tmp_path / "cache" / "sophmate-desktop" / keyring_memo.FILE_NAME
    unusable = "keyring.backends.fail.Keyring"
    done, modules = run("category", "pause", "reporting", "--reason", "a", keyring=unusable)
    assert done.returncode == 0, done.stderr
    assert "keyring.backends.fail" in modules and memo.exists()
    assert "fail.Keyring" in json.loads(memo.read_text())["message"]

    done, modules = run("category", "resume", "reporting", "--reason", "b", keyring=unusable)
    assert done.returncode == 0, done.stderr
    assert _loaded(modules, "keyring") == []  # remembered: keyring not even imported

    # Another keyring configuration is another answer: asked, and the memory goes.
    done, modules = run("category", "pause", "reporting", "--reason", "c")
    assert done.returncode == 0, done.stderr
    assert "keyring" in modules and not memo.exists()


def test_each_command_builds_its_own_parsers_only() -> None:
    full = _commands(cli_parser.build_parser())
    listed = [name for _, names in cli_parser.BUILDERS for name in names]
    assert listed == full  # the table names every command once, in --help's order
    for build, names in cli_parser.BUILDERS:
        parser = argparse.ArgumentParser()
        build(parser.add_subparsers(dest="command"))
        assert _commands(parser) == list(names), build.__name__
    partial = cli_parser.build_parser(["--db", "x.db", "category", "pause", "a", "--reason", "r"])
    assert _commands(partial) == ["category"]


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["category", "list"], "category"),
        (["--db", "x.db", "--actor", "bob", "inbox", "list"], "inbox"),
        (["--db=x.db", "held", "replay"], "held"),
        (["--ac", "bob", "runs", "list"], "runs"),  # argparse's prefix of --actor
        (["--version"], None),
        (["-h"], None),
        (["--db", "x.db"], None),
        ([], None),
    ],
)
def test_command_of(argv: list[str], command: str | None) -> None:
    assert cli_parser.command_of(argv) == command


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)
