"""Which database opens: SOPHMATE_DB, then the remembered team database, then local."""

from __future__ import annotations

import json
import stat

import pytest

from sophmate_desktop.domain.errors import BadInput, DatabaseError
from sophmate_desktop.store.database import default_db_url, local_db_path, user_config_file

TEAM = "postgresql://ops:pw-in-url@db.example.test:5432/sophmate"


def test_the_order_is_environment_then_config_then_local(monkeypatch, services, user_dirs):
    console = services.console
    assert default_db_url() == f"sqlite:///{local_db_path()}"
    assert str(local_db_path()).startswith(str(user_dirs / "data"))

    path = console.remember_db_url(TEAM)
    assert path == user_config_file() and path.parent.parent == user_dirs / "config"
    assert json.loads(path.read_text()) == {"db_url": TEAM}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # the URL may carry a password
    assert default_db_url() == TEAM
    info = console.database_info()
    assert info.remembered_url == "postgresql://ops:***@db.example.test:5432/sophmate"
    assert not info.env_overrides

    monkeypatch.setenv("SOPHMATE_DB", "sqlite:////elsewhere/x.sqlite3")
    assert default_db_url() == "sqlite:////elsewhere/x.sqlite3"
    assert console.database_info().env_overrides
    monkeypatch.delenv("SOPHMATE_DB")

    console.forget_db_url()
    assert json.loads(path.read_text()) == {}
    assert default_db_url() == f"sqlite:///{local_db_path()}"


def test_only_a_postgresql_url_is_remembered(services, user_dirs):
    with pytest.raises(BadInput, match="a team database is PostgreSQL"):
        services.console.remember_db_url("sqlite:////tmp/other.sqlite3")
    assert not user_config_file().exists()


def test_a_damaged_config_file_is_an_error_not_a_new_local_database(services, user_dirs):
    config = user_config_file()
    config.parent.mkdir(parents=True)
    config.write_text("{not json")
    with pytest.raises(DatabaseError, match="fix the file or delete it"):
        default_db_url()
    assert not local_db_path().exists()
