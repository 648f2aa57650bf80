"""Console calls for the Settings page and the first-run Welcome page: where the data
lives, who is acting, the example workflows and the demo, a team database to remember,
and connection changes reported with what they paused."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sophmate_desktop.domain import policy
from sophmate_desktop.domain.errors import BadInput, DatabaseError
from sophmate_desktop.domain.llm import changes_provider
from sophmate_desktop.store import sql
from sophmate_desktop.store.database import (
    MIGRATIONS_DIR,
    SCHEMA_TABLE,
    default_data_dir,
    local_db_path,
    parse_url,
    remove_sqlite_files,
    user_config_file,
)
from sophmate_desktop.store.models import AuditEvent, Connection, Workflow
from sophmate_desktop.store.rows import ConnectionRow

if TYPE_CHECKING:
    from sophmate_desktop.console import Console

TEAM_URL_HELP = "a team database is PostgreSQL: postgresql://USER:PASSWORD@HOST:PORT/DBNAME"


@dataclass(frozen=True)
class DatabaseInfo:
    url: str  # the password masked
    kind: str  # sqlite | postgresql
    path: Path | None  # the SQLite file
    schema_version: str
    team: bool
    source: str  # where the URL came from, in words
    config_file: Path
    remembered_url: str | None  # the team database in config_file, password masked
    env_overrides: bool  # SOPHMATE_DB is set and wins over config_file
    local_path: Path  # the local database used when nothing else is named
    unused_local: bool  # local_path exists, holds nothing, and this is not it

    @property
    def folder(self) -> Path:
        """Where the files that belong with this database go (demo folders, logs)."""
        return self.path.parent if self.path is not None else default_data_dir()


@dataclass(frozen=True)
class Identity:
    actor: str
    os_user: str
    login: str | None = None  # PostgreSQL: the login, who acts there
    role: str | None = None  # in a team: this person's role (None: outside it)

    @property
    def from_os(self) -> bool:
        return self.actor == self.os_user


@dataclass(frozen=True)
class ExampleImport:
    name: str
    imported: bool  # False: a workflow of that name was already there and is kept


@dataclass(frozen=True)
class TeamDatabaseCheck:
    url: str  # password masked
    server_version: str
    schema_version: str | None  # None: an empty database, set up on first start

    @property
    def message(self) -> str:
        state = (
            f"a SophMate database at schema {self.schema_version}"
            if self.schema_version
            else "an empty database: SophMate Desktop creates its tables when it first opens it"
        )
        return f"Connected to {self.url} (PostgreSQL {self.server_version}): {state}."


@dataclass(frozen=True)
class ConnectionUser:
    workflow: str
    paused: bool
    pauses_on_change: bool


@dataclass(frozen=True)
class ConnectionSaved:
    row: ConnectionRow
    created: bool
    changed: bool  # an existing connection was changed (False: nothing to save)
    paused: tuple[str, ...]  # workflows this change paused
    reviews_due: tuple[str, ...]  # workflows whose provider-change review is now due


def _masked(text: str, password: str | None) -> str:
    return text.replace(password, "***") if password else text


def _known_migrations() -> set[str]:
    return {p.stem for p in MIGRATIONS_DIR.glob("[0-9]*.py")}


def _display(url: str) -> str | None:
    with contextlib.suppress(DatabaseError):
        return parse_url(url).display
    return None


def _read_config(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatabaseError(f"cannot read {path}: {exc}; fix the file or delete it")
    if not isinstance(data, dict):
        raise DatabaseError(f"{path} does not hold a JSON object; fix the file or delete it")
    return data


def _write_config(path: Path, data: dict[str, Any]) -> None:
    """Atomically, readable by the user only: the URL may carry a password."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _is_empty_sophmate_db(path: Path) -> bool:
    """True when `path` is a SophMate SQLite database in which nothing was ever done
    (every state change is audited, so no audit event means nothing to lose)."""
    if not path.is_file():
        return False
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        return sql.count_rows(conn, AuditEvent._meta.table_name) == 0
    except sqlite3.Error:
        return False  # not ours, or damaged: never offered for removal
    finally:
        conn.close()


class SetupOps:
    # Where the data lives ---------------------------------------------------

    def database_info(self: Console) -> DatabaseInfo:
        display = getattr(self.db, "url_display", "?")
        team = bool(getattr(self.db, "is_team", False))
        path = None
        if not team and display.startswith("sqlite:///"):
            path = Path(display.removeprefix("sqlite:///"))
        row = sql.latest_migration(self.db, SCHEMA_TABLE)
        config_file = user_config_file()
        try:
            remembered = _read_config(config_file).get("db_url")
        except DatabaseError:
            remembered = None
        env = os.environ.get("SOPHMATE_DB")
        local = local_db_path()
        if env and _display(env) == display:
            source = "the SOPHMATE_DB environment variable"
        elif remembered and _display(remembered) == display:
            source = f"the team database remembered in {config_file}"
        elif display == f"sqlite:///{local}":
            source = "the local default (no other database named)"
        else:
            source = "the --db option"
        return DatabaseInfo(
            url=display,
            kind="postgresql" if team else "sqlite",
            path=path,
            schema_version=row[0] if row else "none",
            team=team,
            source=source,
            config_file=config_file,
            remembered_url=_display(remembered) if remembered else None,
            env_overrides=bool(env),
            local_path=local,
            unused_local=path != local and _is_empty_sophmate_db(local),
        )

    def identity(self: Console) -> Identity:
        try:
            os_user = getpass.getuser()
        except Exception:
            os_user = "unknown"
        if self.login is None:
            return Identity(self.actor, os_user)
        role = self.role()
        return Identity(self.actor, os_user, self.login, role.value if role else None)

    def four_eyes_mode(self: Console) -> str:
        """ "auto", "on" or "off", as stored."""
        value = self.setting("four_eyes", "auto")
        if value == "auto":
            return "auto"
        return "on" if value else "off"

    # First steps --------------------------------------------------------------

    def import_example_workflows(self: Console) -> list[ExampleImport]:
        """Import the shipped examples; a workflow of the same name is left as it is."""
        from sophmate_desktop.domain.workflow_file import parse_workflow_yaml
        from sophmate_desktop.resources import example_workflows

        results = []
        for path in example_workflows():
            name = parse_workflow_yaml(path.read_bytes()).name
            if Workflow.get_or_none(Workflow.name == name) is not None:
                results.append(ExampleImport(name, imported=False))
                continue
            row = self.import_workflow(path)
            results.append(ExampleImport(row.name, imported=True))
        return results

    def demo_folder(self: Console) -> Path:
        """Where the demo's sample files go: beside the SQLite file, else the data folder."""
        return self.database_info().folder / "demo"

    def load_demo(self: Console, progress: Callable[[str], None]) -> dict[str, int]:
        """The `demo` command's data (real engine runs), acted by demo-lead and
        demo-approver; the sample files go to `demo_folder()`."""
        from sophmate_desktop.console.demo import load_demo

        root = self.demo_folder()
        lead = type(self)(self.db, actor="demo-lead", secrets=self.secrets)
        approver = type(self)(self.db, actor="demo-approver", secrets=self.secrets)
        outcome: list[Any] = []
        finished = threading.Event()

        def body() -> None:
            try:
                with self.db.connection_context():
                    outcome.append(load_demo(lead, approver, root, progress=progress))
            except BaseException as exc:  # handed to the caller below
                outcome.append(exc)
            finally:
                finished.set()

        # The demo starts and joins engine threads. Joined from a thread Python did not
        # start (a Qt pool thread), Python 3.11 would register that thread as a dummy
        # that is never removed; a thread of our own joins cleanly.
        threading.Thread(target=body, name="sophmate-demo", daemon=True).start()
        finished.wait()
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]

    # A team database -----------------------------------------------------------

    def test_database_url(self: Console, url: str) -> TeamDatabaseCheck:
        """Connect to a team database without changing it; DatabaseError/BadInput
        say clearly what is wrong. Slow when the host does not answer: call it off
        the GUI thread."""
        target = parse_url(url)
        if target.kind != "postgresql":
            raise BadInput(TEAM_URL_HELP)
        try:
            import psycopg
        except ImportError:
            raise DatabaseError(
                "PostgreSQL support is not installed: pip install 'sophmate-desktop[team]'"
            )
        try:
            with psycopg.connect(
                host=target.host,
                port=target.port,
                user=target.user,
                password=target.password,
                dbname=target.dbname,
                connect_timeout=5,
            ) as conn:
                version, applied = sql.postgres_probe(conn, SCHEMA_TABLE)
        except psycopg.Error as exc:
            text = str(exc).strip()
            first = text.splitlines()[0] if text else type(exc).__name__
            raise DatabaseError(
                f"cannot connect to {target.display}: {_masked(first, target.password)}"
            )
        newer = sorted(set(applied) - _known_migrations())
        if newer:
            raise DatabaseError(
                f"{target.display} has schema {newer[-1]}, newer than this version of "
                "SophMate Desktop understands; upgrade the application first"
            )
        return TeamDatabaseCheck(target.display, str(version), applied[-1] if applied else None)

    def remember_db_url(self: Console, url: str) -> Path:
        """Open `url` (PostgreSQL) from the next start on; returns the config file."""
        target = parse_url(url)
        if target.kind != "postgresql":
            raise BadInput(TEAM_URL_HELP)
        path = user_config_file()
        data = _read_config(path)
        data["db_url"] = url.strip()
        _write_config(path, data)
        return path

    def forget_db_url(self: Console) -> None:
        """Back to the local database from the next start on."""
        path = user_config_file()
        data = _read_config(path)
        if data.pop("db_url", None) is not None:
            _write_config(path, data)

    def remove_unused_local_database(self: Console) -> Path:
        """Delete the local database file when it is empty and not the one in use."""
        info = self.database_info()
        if not info.unused_local:
            raise BadInput(
                f"{info.local_path} is in use or holds data; it is kept (nothing was removed)"
            )
        remove_sqlite_files(info.local_path)
        return info.local_path

    # Connections ---------------------------------------------------------------

    def connection_users(self: Console, name: str) -> list[ConnectionUser]:
        """The workflows whose steps use connection `name`."""
        from sophmate_desktop.console.workflows import workflows_using

        return [
            ConnectionUser(wf.name, bool(wf.paused), policy.pauses_on_provider_change(defn.pause))
            for wf, defn in workflows_using(name)
        ]

    def save_connection_reporting(
        self: Console,
        name: str,
        kind: str,
        settings: Mapping[str, Any],
        staging_settings: Mapping[str, Any] | None = None,
        secret_ref: str | None = None,
    ) -> ConnectionSaved:
        """`save_connection`, plus what it did to the workflows that use it."""
        name = (name or "").strip()
        if not name:
            raise BadInput("name: a connection needs a name")
        with self.transaction():
            old = Connection.get_or_none(Connection.name == name)
            before = {u.workflow: u.paused for u in self.connection_users(name)}
            row = self.save_connection(name, kind, settings, staging_settings, secret_ref)
            changed = old is not None and row.changed_at != old.changed_at
            provider = changed and changes_provider(
                old.kind,
                kind,
                {
                    "settings": old.settings,
                    "staging_settings": old.staging_settings,
                    "secret_ref": old.secret_ref,
                },
                {
                    "settings": dict(settings),
                    "staging_settings": staging_settings,
                    "secret_ref": secret_ref,
                },
            )
            after = self.connection_users(name) if provider else []
        return ConnectionSaved(
            row=row,
            created=old is None,
            changed=changed,
            paused=tuple(u.workflow for u in after if u.paused and not before.get(u.workflow)),
            reviews_due=tuple(u.workflow for u in after),
        )
