"""The command line (DESIGN section 11), a thin layer over the console.

`main(argv)` returns the exit code and never calls sys.exit: 0 done, 2 bad input,
3 refused by policy, 10-14 the database in trouble (domain.errors.ExitCode), 1
anything else. Messages go to stderr as "error: ..." or "refused: ...", one line,
without a traceback unless SOPHMATE_DEBUG=1. A driver error (locked, read-only,
full, corrupt, gone) is named by store.integrity.fault_of, never shown raw.

The parser is in cli_parser; the commands, one module per noun, are named there.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sophmate_desktop.cli_format import PROG, err
from sophmate_desktop.cli_parser import SWITCHES_CONSOLE, build_parser
from sophmate_desktop.domain.errors import DatabaseError, ExitCode, SophmateError

if TYPE_CHECKING:
    from peewee import Database

    from sophmate_desktop.store.database import DatabaseUrl

# The store and the console (peewee, and through it the drivers) are imported once a
# command is known to need the database: `--version` and `--help` never do.

DEBUG_ENV = "SOPHMATE_DEBUG"
# The only commands that may create a SQLite database that is not there yet; any other
# is refused on a missing file, so a mistyped --db never opens a new empty database.
CREATING_COMMANDS = frozenset({"init", "demo"})


def out(text: str = "") -> None:
    print(text, file=sys.stdout)


def _report(exc: BaseException, db_path: Path | None = None) -> int:
    if os.environ.get(DEBUG_ENV) == "1":
        traceback.print_exception(exc, file=sys.stderr)
    from sophmate_desktop.store.database import BUSY_TIMEOUT_S
    from sophmate_desktop.store.integrity import fault_of

    exc = fault_of(exc, db_path, busy_s=BUSY_TIMEOUT_S) or exc
    if isinstance(exc, SophmateError):
        err("refused" if exc.exit_code == 3 else "error", str(exc))
        return exc.exit_code
    err("error", f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, one_line=True)
    return ExitCode.FAILED


def _sqlite_path(args: argparse.Namespace) -> Path | None:
    from sophmate_desktop.store.database import default_db_url, parse_url

    try:
        target = parse_url(default_db_url() if args.db is None else args.db)
    except SophmateError:
        return None
    return target.path if target.kind == "sqlite" else None


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (tests capture stdout)


def _sqlite_named(args: argparse.Namespace) -> bool:
    """True when the command's database is surely SQLite (--db or SOPHMATE_DB says so, or
    neither is set and no team database is remembered), read without the store."""
    url = args.db if args.db is not None else os.environ.get("SOPHMATE_DB")
    if url:
        return url.strip().lower().startswith("sqlite:") or "://" not in url
    import platformdirs

    remembered = Path(platformdirs.user_config_dir("sophmate-desktop", appauthor=False))
    return not (remembered / "config.json").exists()


def _import_store_without_postgres_drivers() -> None:
    """peewee and playhouse's migrations import psycopg (~90 ms) when they are first
    imported, whatever the database (each guards it with `except ImportError`); a
    command on SQLite hides the drivers from that one import of the store. A process
    that has imported peewee already (tests, the window) is left as it is."""
    if "peewee" in sys.modules:
        return
    hidden = {name: sys.modules.get(name) for name in ("psycopg", "psycopg2")}
    try:
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]  # makes `import` fail
        import sophmate_desktop.store.database  # noqa: F401
    finally:
        for name, module in hidden.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def _open(args: argparse.Namespace) -> Database:
    """The database the command names; `args.created` tells whether it was made now."""
    from sophmate_desktop.secrets import db_login_password
    from sophmate_desktop.store.database import (
        default_db_url,
        open_database,
        parse_url,
        use_password_lookup,
    )

    use_password_lookup(db_login_password)  # a login's password kept in the keyring
    url = default_db_url() if args.db is None else args.db
    target = parse_url(url)
    missing = target.kind == "sqlite" and target.path is not None and not target.path.exists()
    if missing and args.command not in CREATING_COMMANDS:
        raise DatabaseError(_no_database(args, target))
    args.created = missing
    return open_database(url, create=missing)


def _no_database(args: argparse.Namespace, target: DatabaseUrl) -> str:
    from sophmate_desktop.store.database import local_db_path, user_config_file

    if args.db is not None:
        named, init = "named by --db", f"{PROG} --db {target.display} init"
    elif os.environ.get("SOPHMATE_DB"):
        named, init = "named by SOPHMATE_DB", f"{PROG} init"
    elif target.path == local_db_path():
        named, init = "the default local database", f"{PROG} init"
        return (
            f"no database at {target.path} ({named}) yet; nothing was created. Create it "
            f"with `{init}`, or start the window once, or name another with --db"
        )
    else:
        named, init = f"remembered in {user_config_file()}", f"{PROG} init"
    return (
        f"no database at {target.path} ({named}); nothing was created. Check the path, "
        f"or create a new database there with `{init}`"
    )


def main(
    argv: list[str] | None = None,
    *,
    no_command: Callable[[argparse.Namespace], int] | None = None,
) -> int:
    """Run one command; returns the exit code. `no_command(args)` runs when none is given."""
    parser = build_parser(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version or a usage error
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if _sqlite_named(args):
        _import_store_without_postgres_drivers()
    refused = _actor_refusal(args)
    if refused:
        err("error", refused)
        return ExitCode.BAD_INPUT
    if args.command is None:
        if no_command is not None:
            return no_command(args)
        parser.print_help()
        return 0
    if not getattr(args, "opens", True):  # `db` commands open the file themselves
        return _run(lambda: args.func(args), _sqlite_path(args))
    alone = getattr(args, "alone_if", None)  # (argument, handler): given it, no database
    if alone is not None and getattr(args, alone[0], None):
        return _run(lambda: alone[1](args), None)
    try:
        db = _open(args)
    except Exception as exc:
        code = _report(exc, _sqlite_path(args))
        return ExitCode.BAD_INPUT if code == ExitCode.FAILED else code
    if getattr(db, "read_only", False):
        err("note", f"the database {db.url_display} is read-only: reading only", one_line=True)
    console_class = _console_class(args)
    try:
        return _run(
            lambda: args.func(console_class(db, actor=args.actor), args), _sqlite_path(args)
        )
    finally:
        from sophmate_desktop.store.database import optimize

        optimize(db)
        db.close()


def _actor_refusal(args: argparse.Namespace) -> str | None:
    """--actor: on SQLite it becomes "as NAME by OS-USER" (args.actor); on PostgreSQL,
    where the login is who acts, the message refusing it."""
    if args.actor is None:
        return None
    from sophmate_desktop.console.core import ACTOR_ON_POSTGRES, default_actor
    from sophmate_desktop.domain.roles import on_behalf
    from sophmate_desktop.store.database import default_db_url, login_of, parse_url

    try:
        target = parse_url(default_db_url() if args.db is None else args.db)
    except SophmateError:
        return None  # the command reports the bad URL itself
    if target.kind == "sqlite":
        args.actor = on_behalf(args.actor, default_actor())
        return None
    return ACTOR_ON_POSTGRES.format(login=login_of(target))


def _console_class(args: argparse.Namespace) -> type:
    """The console the command's handler gets: all of it, unless its noun says that it
    needs only some groups of operations (cli_parser.SWITCHES_CONSOLE)."""
    if getattr(args, "console", None) == SWITCHES_CONSOLE:
        from sophmate_desktop.console.core import console_with
        from sophmate_desktop.console.database_health import DatabaseHealthOps
        from sophmate_desktop.console.switches import SwitchOps

        return console_with(SwitchOps, DatabaseHealthOps)
    from sophmate_desktop.console import Console

    return Console


def _run(command: Callable[[], object], db_path: Path | None) -> int:
    try:
        result = command()
        text, code = result if isinstance(result, tuple) else (result, 0)
        if text:
            out(text)
        return code
    except KeyboardInterrupt:
        err("error", "interrupted")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly
        _silence_stdout()
        return ExitCode.FAILED
    except Exception as exc:
        return _report(exc, db_path)


def print_help(file: TextIO | None = None) -> None:
    build_parser().print_help(file)
