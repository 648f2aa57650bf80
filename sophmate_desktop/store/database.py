"""The one entry point to the database: open, migrate, seed, transact.

`open_database(url)` returns a ready peewee Database bound to the model proxy.
SQLite runs in WAL with synchronous NORMAL, foreign keys and a busy timeout;
PostgreSQL goes through psycopg 3. Before migrating an existing SQLite file a
copy is kept beside it; a database whose schema is newer than this code is refused.
A SQLite file is checked (`PRAGMA quick_check`) once per process and file state; one
that cannot be written opens read-only (store/integrity.py).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from peewee import Database, PostgresqlDatabase, SqliteDatabase

from sophmate_desktop import __version__
from sophmate_desktop.domain.clock import utcnow
from sophmate_desktop.domain.enums import EffectKind, SwitchScope
from sophmate_desktop.domain.errors import DatabaseError, DatabaseUnreachable, PolicyRefused
from sophmate_desktop.store import integrity
from sophmate_desktop.store.backups import online_copy, sqlite_uri
from sophmate_desktop.store.models import (
    GENESIS_HASH,
    AuditHead,
    Setting,
    Switch,
    database_proxy,
)

log = logging.getLogger(__name__)

APP_DIR_NAME = "sophmate-desktop"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SCHEMA_TABLE = "schema_version"
BUSY_TIMEOUT_S = 10.0
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": 1,
    "foreign_keys": 1,
    "cache_size": -64000,
}
DEFAULT_SETTINGS = {"four_eyes": "auto"}  # auto: on in team mode, off on a single desktop

URL_HELP = "use sqlite:///RELATIVE/PATH, sqlite:////ABSOLUTE/PATH or postgresql://USER:PASSWORD@HOST:PORT/DBNAME"


@dataclass(frozen=True)
class DatabaseUrl:
    kind: str  # sqlite | postgresql
    path: Path | None = None  # sqlite
    host: str = "localhost"
    port: int = 5432
    user: str | None = None
    password: str | None = None
    dbname: str | None = None

    @property
    def display(self) -> str:
        """The URL with the password masked: safe for messages and the UI."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.path}"
        who = f"{self.user}:***@" if self.password else (f"{self.user}@" if self.user else "")
        return f"postgresql://{who}{self.host}:{self.port}/{self.dbname}"


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False))


def local_db_path() -> Path:
    """The local SQLite database used when no other database is named."""
    return default_data_dir() / "sophmate.sqlite3"


def user_config_file() -> Path:
    """`config.json` in the user's config directory: the remembered team database."""
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_DIR_NAME, appauthor=False)) / "config.json"


def default_db_url() -> str:
    """`SOPHMATE_DB` if set, else the `db_url` remembered in `user_config_file()`,
    else SQLite in the user data directory.

    A config file that cannot be read is an error, not a silent fall-back to a new
    local database in a place the user did not choose.
    """
    env = os.environ.get("SOPHMATE_DB")
    if env:
        return env
    config = user_config_file()
    if config.exists():
        try:
            remembered = json.loads(config.read_text(encoding="utf-8")).get("db_url")
        except (OSError, ValueError, AttributeError) as exc:
            raise DatabaseError(
                f"cannot read {config}: {exc}; fix the file or delete it to use the local database"
            )
        if remembered:
            return str(remembered)
    return f"sqlite:///{local_db_path()}"


def parse_url(url: str) -> DatabaseUrl:
    if not url or not url.strip():
        raise DatabaseError(f"empty database URL: {URL_HELP}")
    url = url.strip()
    if "://" not in url:
        return DatabaseUrl("sqlite", path=Path(url).expanduser())
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        raw = url.split("://", 1)[1]
        if not raw.startswith("/") or raw == "/":
            raise DatabaseError(f"bad SQLite URL {url!r}: {URL_HELP}")
        return DatabaseUrl("sqlite", path=Path(unquote(raw[1:])).expanduser())
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        dbname = parts.path.lstrip("/")
        if not dbname:
            raise DatabaseError(f"PostgreSQL URL names no database: {URL_HELP}")
        try:
            port = parts.port or 5432
        except ValueError:
            raise DatabaseError(f"bad port in database URL: {URL_HELP}")
        return DatabaseUrl(
            "postgresql",
            host=parts.hostname or "localhost",
            port=port,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            dbname=unquote(dbname),
        )
    raise DatabaseError(f"unsupported database URL scheme {scheme!r}: {URL_HELP}")


def is_sqlite(db: Database) -> bool:
    return isinstance(db, SqliteDatabase)


def write_transaction(db: Database) -> contextlib.AbstractContextManager:
    """A transaction that may read then write: IMMEDIATE on SQLite (see FIELD-NOTES).
    On a file opened with its check for later, it first waits for that check."""
    if is_sqlite(db):
        pending = getattr(db, "pending_check", None)
        if pending is not None:
            pending.ensure()  # raises DatabaseCorrupt for a file that failed it
            db.pending_check = None
        return db.atomic("IMMEDIATE")
    return db.atomic()


def _connect_sqlite(target: DatabaseUrl, create: bool, later_above: int | None) -> SqliteDatabase:
    path = target.path
    assert path is not None
    if path.is_dir():
        raise DatabaseError(f"database path {path} is a folder, not a file")
    if not path.exists():
        if not create:
            raise DatabaseError(f"no database at {path}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnreachable(f"cannot create the folder for {path}: {exc.strerror}")
    elif path.stat().st_size > 0:
        with open(path, "rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise DatabaseError(f"{path} is not a SQLite database")
    params = integrity.read_only_params(path)
    if params is None:
        db = SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS, timeout=BUSY_TIMEOUT_S)
    else:
        pragmas = {k: v for k, v in SQLITE_PRAGMAS.items() if k != "journal_mode"}
        uri = sqlite_uri(path, **params)
        integrity.check_once(uri, path)
        db = SqliteDatabase(uri, uri=True, pragmas=pragmas, timeout=BUSY_TIMEOUT_S)
    db.read_only = params is not None
    db.pending_check = None
    try:
        db.connect(reuse_if_open=True)
    except Exception as exc:
        raise integrity.fault_of(exc, path) or DatabaseUnreachable(
            f"cannot open SQLite database {path}: {exc}"
        )
    if params is None:
        _check_or_defer(db, path, later_above)
    return db


def _check_or_defer(db: SqliteDatabase, path: Path, later_above: int | None) -> None:
    if later_above is not None and path.stat().st_size >= later_above:
        db.pending_check = integrity.check_later(sqlite_uri(path), path)
    else:
        integrity.check_once(sqlite_uri(path), path)


# Where a PostgreSQL login's password comes from when the URL has none (the keyring,
# installed by the command line and the window): None leaves it to libpq.
_password_lookup: Callable[[str], str | None] | None = None


def use_password_lookup(lookup: Callable[[str], str | None] | None) -> None:
    global _password_lookup
    _password_lookup = lookup


def login_of(target: DatabaseUrl) -> str:
    """The login a PostgreSQL URL connects as: its user, else libpq's default."""
    return target.user or os.environ.get("PGUSER") or getpass.getuser()


def _password_of(target: DatabaseUrl) -> str | None:
    if target.password is not None or _password_lookup is None:
        return target.password
    if os.environ.get("PGPASSWORD"):
        return None  # libpq's own variable wins over the keyring
    return _password_lookup(login_of(target))


def _connect_postgres(target: DatabaseUrl) -> PostgresqlDatabase:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise DatabaseError(
            "PostgreSQL support is not installed: pip install 'sophmate-desktop[team]'"
        )
    db = PostgresqlDatabase(
        target.dbname,
        host=target.host,
        port=target.port,
        user=target.user,
        password=_password_of(target),
        connect_timeout=5,
        prefer_psycopg3=True,
    )
    try:
        db.connect(reuse_if_open=True)
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnreachable(f"cannot connect to {target.display}: {first_line}")
    return db


def _backup_sqlite(path: Path, applied: int) -> Path:
    stamp = utcnow().strftime("%Y%m%dT%H%M%S")
    dest = path.with_name(f"{path.name}.before-migration-{applied:04d}-{stamp}")
    online_copy(path, dest)  # the same online copy as the scheduled backups
    return dest


def _sqlite_schema_current(db: Database) -> bool:
    """True when a SQLite database has applied exactly the migration files there are:
    the answer of the migration runner's status when nothing is pending and nothing is
    unknown, read without importing playhouse.migrations (~10 ms of a short command)."""
    if not is_sqlite(db):
        return False
    exists = db.execute_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (SCHEMA_TABLE,)
    ).fetchone()
    if exists is None:
        return False
    applied = {name for (name,) in db.execute_sql(f'SELECT "name" FROM "{SCHEMA_TABLE}"')}
    files = {path.stem for path in MIGRATIONS_DIR.glob("[0-9]*.py")}
    return applied == files


_NO_ACCESS = (
    "the login {login} may not read this database's tables: it is not in the team "
    "(an administrator adds it with `team user add {login} --role ROLE`)"
)


def _check_access(db: Database) -> None:
    """On PostgreSQL, a login outside the team is told so, not shown a failed migration."""
    row = db.execute_sql(
        "SELECT session_user, has_schema_privilege(n.oid, 'USAGE') "
        "AND has_table_privilege(c.oid, 'SELECT') FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relname = %s",
        (SCHEMA_TABLE,),
    ).fetchone()
    if row is not None and not row[1]:
        raise PolicyRefused(_NO_ACCESS.format(login=row[0]))


def migrate(db: Database, *, sqlite_path: Path | None = None) -> list[str]:
    """Apply pending migrations; refuse a schema newer than this code."""
    if _sqlite_schema_current(db):
        return []
    if not is_sqlite(db):
        _check_access(db)
    from playhouse.migrations import Runner

    runner = Runner(db, directory=str(MIGRATIONS_DIR), table_name=SCHEMA_TABLE)
    status = runner.status()
    unknown = [m.name for m in status if m.applied and m.path is None]
    if unknown:
        raise DatabaseError(
            f"this database has schema {unknown[-1]}, newer than SophMate Desktop "
            f"{__version__} understands; upgrade the application (refusing to open it)"
        )
    pending = [m for m in status if not m.applied]
    if not pending:
        return []
    applied = [m for m in status if m.applied]
    if applied and sqlite_path is not None:
        backup = _backup_sqlite(sqlite_path, len(applied))
        log.info("copied %s to %s before migrating", sqlite_path, backup)
    if is_sqlite(db):
        # A table rebuild must not fire ON DELETE CASCADE (FIELD-NOTES).
        db.pragma("foreign_keys", 0)
    try:
        return runner.up()
    finally:
        if is_sqlite(db):
            db.pragma("foreign_keys", 1)


def _seeded(db: Database) -> bool:
    """A read: is every seed row there already? (Then opening writes nothing, so a read
    waits for no writer, and a read-only or busy database opens for reading.)"""
    if AuditHead.select().where(AuditHead.id == 1).count() == 0:
        return False
    switches = Switch.select().where(
        (Switch.scope == SwitchScope.EFFECT.value) | (Switch.scope == SwitchScope.GLOBAL.value)
    )
    settings = Setting.select().where(Setting.key.in_(list(DEFAULT_SETTINGS)))
    return switches.count() >= len(EffectKind) + 1 and settings.count() == len(DEFAULT_SETTINGS)


def _seed(db: Database) -> None:
    if _seeded(db):
        return
    with write_transaction(db):
        AuditHead.insert(id=1, last_id=0, last_hash=GENESIS_HASH).on_conflict_ignore().execute()
        Switch.insert(scope=SwitchScope.GLOBAL.value, name="all").on_conflict_ignore().execute()
        for kind in EffectKind:
            Switch.insert(
                scope=SwitchScope.EFFECT.value, name=kind.value
            ).on_conflict_ignore().execute()
        for key, value in DEFAULT_SETTINGS.items():
            Setting.insert(key=key, value=value).on_conflict_ignore().execute()


def open_database(
    url: str | None = None, *, create: bool = True, check_later_above: int | None = None
) -> Database:
    """Open (and create, migrate and seed) the database at `url`; bind the models.

    `check_later_above` (bytes): a SQLite file at least this big whose schema is current
    opens without its quick check (seconds on a big history), which is left in
    `db.pending_check` for the caller to run in the background; writes wait for it.
    A smaller file, or one to migrate, is checked before it opens."""
    target = parse_url(default_db_url() if url is None else url)
    if target.kind == "sqlite":
        db = _connect_sqlite(target, create, check_later_above)
        sqlite_path = target.path
        if db.pending_check is not None and not _sqlite_schema_current(db):
            _check_now(db)
    else:
        db = _connect_postgres(target)
        sqlite_path = None
    db.url_display = target.display
    db.is_team = target.kind == "postgresql"
    db.sqlite_path = sqlite_path
    database_proxy.initialize(db)
    try:
        if getattr(db, "read_only", False):
            integrity.refuse_pending(db, sqlite_path, _pending(db))
        else:
            if migrate(db, sqlite_path=sqlite_path):
                optimize(db)
            _seed(db)
    except Exception as exc:
        db.close()
        raise integrity.fault_of(exc, sqlite_path) or exc
    return db


def _check_now(db: Database) -> None:
    try:
        db.pending_check.ensure()
    except DatabaseError:
        db.close()
        raise
    db.pending_check = None


def optimize(db: Database) -> None:
    """SQLite's `PRAGMA optimize` (after a schema change and before a short-lived
    connection closes, as sqlite.org/lang_analyze.html recommends), with an analysis
    limit so that it never reads a whole big table; a no-op elsewhere or read-only."""
    if not is_sqlite(db) or getattr(db, "read_only", False):
        return
    with contextlib.suppress(Exception):  # statistics are an optimisation, never a failure
        db.execute_sql("PRAGMA analysis_limit=400")
        db.execute_sql("PRAGMA optimize")


def _pending(db: Database) -> list[str]:
    from playhouse.migrations import Runner

    runner = Runner(db, directory=str(MIGRATIONS_DIR), table_name=SCHEMA_TABLE)
    return [m.name for m in runner.status() if not m.applied]


@contextlib.contextmanager
def thread_connection(db: Database) -> Iterator[None]:
    """A worker thread's own connection, closed when the work ends."""
    with db.connection_context():
        yield


def remove_sqlite_files(path: Path) -> None:
    """Delete a SQLite database and its WAL side files (tests, demo reset)."""
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{path}{suffix}")
