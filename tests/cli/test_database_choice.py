"""No silent wrong database: a missing SQLite file is created only by `init` or `demo`."""

from __future__ import annotations

from pathlib import Path

import pytest

from sophmate_desktop import app
from sophmate_desktop.store.database import local_db_path, open_database
from sophmate_desktop.store.models import Switch
from tests.support.cli import REPORTS

COMMANDS = [
    ("workflow", "list"),
    ("category", "pause", "--all", "--reason", "incident"),
    ("inbox", "approve", "1"),
    ("audit", "verify"),
    ("engine", "--log-file", "engine.log"),
    ("workflow", "import", str(REPORTS)),
]


def _main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = app.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user data and config folders in tmp_path; no SOPHMATE_DB."""
    monkeypatch.delenv("SOPHMATE_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_mistyped_db_is_refused_and_nothing_is_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    typo = tmp_path / "sophmaet" / "sophmate.sqlite3"
    code, out, err = _main(capsys, "--db", f"sqlite:///{typo}", *command)
    assert code == 2
    assert out == ""
    assert err.startswith(f"error: no database at {typo} (named by --db); nothing was created")
    assert f"--db sqlite:///{typo} init" in err
    assert len(err.strip().splitlines()) == 1
    assert not typo.parent.exists()


def test_a_plain_path_as_db_is_refused_too(tmp_path: Path, capsys) -> None:
    typo = tmp_path / "typo.sqlite3"
    code, _, err = _main(capsys, "--db", str(typo), "category", "list")
    assert code == 2 and "no database at" in err
    assert not typo.exists()


def test_init_creates_the_database_then_says_it_is_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "new" / "ops.sqlite3"
    url = f"sqlite:///{path}"
    code, out, _ = _main(capsys, "--db", url, "init")
    assert (code, out) == (0, f"created a new database at {url}\n")
    assert path.is_file()
    code, out, _ = _main(capsys, "--db", url, "init")
    assert code == 0 and "is ready (it existed" in out
    code, out, _ = _main(capsys, "--db", url, "category", "pause", "--all", "--reason", "x")
    assert code == 0 and "all automation PAUSED" in out
    db = open_database(url, create=False)
    try:
        assert Switch.get(Switch.scope == "global").paused
    finally:
        db.close()


def test_init_on_an_existing_database_changes_nothing(any_cli) -> None:
    assert any_cli("workflow", "import", REPORTS).code == 0
    done = any_cli("init")
    assert done.code == 0 and "is ready (it existed; its schema is up to date)" in done.out
    assert [w["name"] for w in any_cli("workflow", "list", "--json").json()] == ["report-archive"]


def test_the_default_local_database_is_created_only_by_init(
    user_dirs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = local_db_path()
    assert str(path).startswith(str(user_dirs / "data"))
    code, _, err = _main(capsys, "--actor", "ana", "workflow", "import", str(REPORTS))
    assert code == 2
    assert f"no database at {path} (the default local database) yet" in err
    assert "`sophmate-desktop init`" in err and "start the window once" in err
    assert not path.parent.exists()

    code, out, _ = _main(capsys, "init")
    assert (code, out) == (0, f"created a new database at sqlite:///{path}\n")
    assert _main(capsys, "--actor", "ana", "workflow", "import", str(REPORTS))[0] == 0


def test_a_missing_file_named_by_sophmate_db_is_refused(
    user_dirs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = user_dirs / "env.sqlite3"
    monkeypatch.setenv("SOPHMATE_DB", f"sqlite:///{path}")
    code, _, err = _main(capsys, "workflow", "list")
    assert code == 2 and f"no database at {path} (named by SOPHMATE_DB)" in err
    assert not path.exists()
    assert _main(capsys, "init")[0] == 0
    assert _main(capsys, "--actor", "ana", "workflow", "import", str(REPORTS))[0] == 0
    code, out, _ = _main(capsys, "workflow", "list", "--json")
    assert code == 0 and "report-archive" in out


def test_a_missing_remembered_database_names_the_config_file(
    user_dirs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gone = user_dirs / "team-copy.sqlite3"
    config = user_dirs / "config" / "sophmate-desktop" / "config.json"
    config.parent.mkdir(parents=True)
    config.write_text(f'{{"db_url": "sqlite:///{gone}"}}', encoding="utf-8")
    code, _, err = _main(capsys, "held", "list")
    assert code == 2 and f"remembered in {config}" in err
    assert not gone.exists()
