"""The command line as a real process: `python -m sophmate_desktop ...`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sophmate_desktop import __version__
from tests.support.cli import INVOICE
from tests.support.paths import REPO

SECRET = "s3cret-Value-From-Stdin-42"


@pytest.fixture
def run(sqlite_url: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPHMATE_")}
    env.update(
        PYTHONPATH=str(REPO),
        PYTHON_KEYRING_BACKEND="tests.support.inmemory_keyring.InMemoryKeyring",
        QT_QPA_PLATFORM="offscreen",
    )

    def run(*args: object, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sophmate_desktop", "--db", sqlite_url, *map(str, args)],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            timeout=60,
        )

    assert run("init").returncode == 0
    return run


def test_version(run) -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout == f"sophmate-desktop {__version__}\n"


def test_help(run) -> None:
    done = run("--help")
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("usage: sophmate-desktop")
    assert "secret" in done.stdout and "examples:" in done.stdout


def test_bad_yaml_exits_2(run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    done = run("workflow", "import", bad)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {bad}: ") and "YAML syntax error" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_enable_refused_exits_3(run) -> None:
    assert run("--actor", "lead", "workflow", "import", INVOICE).returncode == 0
    done = run("workflow", "enable", "invoice-intake")
    assert done.returncode == 3
    assert done.stderr == (
        "refused: cannot enable invoice-intake: missing notification path, rollback path\n"
    )


def test_secret_set_from_stdin(run, tmp_path: Path) -> None:
    done = run("--actor", "ana", "secret", "set", "supplier-smtp", stdin=SECRET + "\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "secret supplier-smtp stored in the keyring\n"
    assert SECRET not in done.stdout + done.stderr
    # The keyring of that process is gone; the database keeps only the name.
    listed = run("secret", "list")
    assert "supplier-smtp" in listed.stdout and "ana" in listed.stdout
    audit = run("audit", "export", "--format", "jsonl")
    assert '"secret.set"' in audit.stdout and SECRET not in audit.stdout
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("sophmate.sqlite3*"))
    assert SECRET.encode() not in stored


def test_secret_set_empty_stdin_exits_2(run) -> None:
    done = run("secret", "set", "api", stdin="")
    assert done.returncode == 2 and done.stderr.startswith("error: secret value: empty")


def test_pause_all_on_a_mistyped_db_exits_2_and_creates_nothing(run, tmp_path: Path) -> None:
    """The engine on the real database would keep running: a 0 here would be a lie."""
    typo = tmp_path / "sophmate-dekstop" / "db.sqlite3"
    done = run("--db", f"sqlite:///{typo}", "category", "pause", "--all", "--reason", "incident")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"error: no database at {typo} (named by --db)")
    assert not typo.parent.exists()


def test_demo_on_a_new_path_says_where_it_created_the_database(run, tmp_path: Path) -> None:
    path = tmp_path / "demo" / "demo.sqlite3"
    done = run("--db", f"sqlite:///{path}", "demo", "--folder", tmp_path / "files")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"created a new database at sqlite:///{path}\n")
    assert path.is_file()
