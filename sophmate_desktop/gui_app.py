"""Builds the window and its services (the GUI's composition root)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from peewee import Database
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from sophmate_desktop.cli_db import restore_recorded
from sophmate_desktop.console import Console, default_actor
from sophmate_desktop.domain.errors import DatabaseCorrupt, DatabaseUnreachable, SophmateError
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.secrets import SecretStore, db_login_password
from sophmate_desktop.store import backups, integrity
from sophmate_desktop.store.database import (
    default_db_url,
    local_db_path,
    open_database,
    parse_url,
    use_password_lookup,
)
from sophmate_desktop.ui.bridge import EventBridge
from sophmate_desktop.ui.database_check import DatabaseCheck
from sophmate_desktop.ui.main_window import MainWindow
from sophmate_desktop.ui.navigator import Navigator
from sophmate_desktop.ui.preferences import Preferences
from sophmate_desktop.ui.preferences import default_path as preferences_path
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.single_instance import SingleInstance, normalised_url
from sophmate_desktop.ui.style import apply_style
from sophmate_desktop.ui.tasks import TaskRunner
from sophmate_desktop.ui.translation import install_translator
from sophmate_desktop.ui.widgets.corrupt_database import CorruptDatabaseDialog, CorruptFacts

log = logging.getLogger(__name__)

# The models are bound to one database per process (store.models.database_proxy).
# Opening the same URL again for a second window would rebind them under the first
# window, whose transactions would then cover none of its queries; so windows on one
# database in one process share its Database object (each thread still has its own
# connection). Entry: normalised URL -> [Database, windows using it].
_shared: dict[str, list] = {}


def _acquire_database(url: str, check_later_above: int) -> tuple[str, Database]:
    key = normalised_url(url)
    entry = _shared.get(key)
    if entry is None:
        use_password_lookup(db_login_password)  # a login's password kept in the keyring
        entry = _shared[key] = [open_database(url, check_later_above=check_later_above), 0]
    entry[1] += 1
    return key, entry[0]


def _release_database(key: str) -> None:
    entry = _shared.get(key)
    if entry is not None:
        entry[1] -= 1
        if entry[1] <= 0:
            del _shared[key]


def is_first_run(db_url: str) -> bool:
    """True when the (SQLite) database does not exist yet: the welcome page opens."""
    target = parse_url(db_url)
    return target.kind == "sqlite" and target.path is not None and not target.path.exists()


def create_window(
    db_url: str | None = None,
    actor: str | None = None,
    start_engine: bool = True,
    *,
    check_in_background_above: int = integrity.CHECK_IN_BACKGROUND_BYTES,
) -> MainWindow:
    """The main window on `db_url`, its engine started when asked; no event loop.

    A SQLite file of at least `check_in_background_above` bytes is quick-checked in the
    background: the window shows at once, changes (and the engine) wait for the check.
    Call `window.shutdown()` (or Quit) to stop the engine and background tasks.
    """
    url = db_url or default_db_url()
    first_run = is_first_run(url)
    key, db = _acquire_database(url, check_in_background_above)
    try:
        pending = getattr(db, "pending_check", None)
        if pending is not None and pending.error is not None:
            raise pending.error  # another window's check found it corrupt
        window = _build(db, actor, start_engine, first_run)
    except BaseException:
        _release_database(key)
        raise
    window.shut_down.connect(lambda: _release_database(key))
    _start_after_check(db, window)
    return window


def _start_after_check(db: Database, window: MainWindow) -> None:
    """Start the engine now, or once the quick check the database opened without has
    passed (it runs in the background: seconds on a big history)."""
    engine = window.services.engine
    pending = getattr(db, "pending_check", None)
    if pending is None or pending.done:
        if engine is not None:
            engine.start()
        return
    check = DatabaseCheck(pending, window)
    window.database_check = check

    def start_engine() -> None:
        if engine is not None and not window.is_shut_down:
            engine.start()

    check.start(then=start_engine)


def _build(db: Database, actor: str | None, start_engine: bool, first_run: bool) -> MainWindow:
    secrets = SecretStore()
    console = Console(db, actor=actor, secrets=secrets)
    bridge = EventBridge()
    bridge.attach(console.events)
    engine = None
    if start_engine:
        engine = Engine(db, secrets=secrets)
        console.events.subscribe(engine.wake)
        bridge.attach(engine.events)
    services = UiServices(
        console=console,
        events=bridge,
        tasks=TaskRunner(console),
        navigator=Navigator(),
        engine=engine,
        preferences=Preferences(preferences_path()),
    )
    window = MainWindow(services, first_run=first_run)
    bridge.setParent(window)
    services.tasks.setParent(window)
    services.navigator.setParent(window)
    return window


RESTORED_AT_START = "restored from the window at start: the database was corrupt"

# Where nobody can see (or close) a message box: the error goes to stderr only.
HEADLESS_PLATFORMS = frozenset({"offscreen", "minimal", "vnc"})


def _cannot_start(app: QApplication, exc: SophmateError) -> int:
    """Say why on stderr first (a launcher's log, a terminal), then in a box."""
    print(f"error: {exc}", file=sys.stderr, flush=True)
    if app.platformName() not in HEADLESS_PLATFORMS:
        QMessageBox.critical(None, "SophMate Desktop cannot start", str(exc))
    return exc.exit_code


def confirm_new_database(path: Path, default: bool, parent: QWidget | None = None) -> bool:
    """Ask before creating a database that is not there: a mistyped --db must not
    become a new empty database silently. True: create it."""
    if default:
        text = (
            f"This is the first start: there is no database yet at\n{path}\n\n"
            "Create it there? (Settings → Database can point to a team database later.)"
        )
    else:
        text = (
            f"There is no database at\n{path}\n\nCheck the path if you meant an existing "
            "database; or create a new, empty one there."
        )
    box = QMessageBox(QMessageBox.Icon.Question, "SophMate Desktop: new database?", text)
    box.setObjectName("newDatabaseQuestion")
    create = box.addButton("&Create the database", QMessageBox.ButtonRole.AcceptRole)
    quit_button = box.addButton("&Quit", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(create if default else quit_button)
    box.setEscapeButton(quit_button)
    box.exec()
    return box.clickedButton() is create


def may_create_database(app: QApplication, url: str) -> bool:
    """The window's first run on a missing SQLite file asks (where nobody can answer,
    it says on stderr that it creates one)."""
    path = parse_url(url).path
    assert path is not None
    if app.platformName() in HEADLESS_PLATFORMS:
        print(f"note: no database at {path}; creating a new one", file=sys.stderr, flush=True)
        return True
    return confirm_new_database(path, default=path == local_db_path())


def open_window(
    app: QApplication,
    url: str,
    actor: str | None = None,
    *,
    start_engine: bool = True,
    ask: bool | None = None,
) -> MainWindow | int:
    """The window on `url`, or the exit code when it cannot open. A corrupt SQLite file
    is named with its newest backup, and the window offers to restore it (`ask`: None
    asks where someone can answer, i.e. not on a headless platform)."""
    try:
        return create_window(url, actor=actor, start_engine=start_engine)
    except DatabaseCorrupt as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        path = parse_url(url).path
        if ask is None:
            ask = app.platformName() not in HEADLESS_PLATFORMS
        if not ask or path is None:
            return exc.exit_code
        return _offer_restore(app, url, path, exc, actor, start_engine)
    except DatabaseUnreachable as exc:
        if ask is None:
            ask = app.platformName() not in HEADLESS_PLATFORMS
        if not ask:
            return _cannot_start(app, exc)
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return _offer_other_database(app, url, exc, actor, start_engine)
    except SophmateError as exc:
        return _cannot_start(app, exc)


def _offer_other_database(
    app: QApplication, url: str, exc: DatabaseUnreachable, actor: str | None, start_engine: bool
) -> MainWindow | int:
    """Retry, the local database, or a corrected connection (remembered once it opens)."""
    from sophmate_desktop.ui.widgets import unreachable_db as ud

    while True:
        dialog = ud.UnreachableDatabaseDialog(str(exc), parse_url(url).display)
        dialog.exec()
        if dialog.choice == ud.QUIT:
            return exc.exit_code
        target = url
        if dialog.choice == ud.LOCAL:
            target = f"sqlite:///{local_db_path()}"
            if is_first_run(target) and not may_create_database(app, target):
                continue
        elif dialog.choice == ud.EDIT:
            target = dialog.new_url
        try:
            window = create_window(target, actor=actor, start_engine=start_engine)
        except DatabaseUnreachable as again:
            exc, url = again, target
            continue
        except SophmateError as other:
            return _cannot_start(app, other)
        if dialog.choice == ud.EDIT and parse_url(target).kind == "postgresql":
            window.services.console.remember_db_url(target)  # the next start opens it
        return window


def _offer_restore(
    app: QApplication,
    url: str,
    path: Path,
    exc: DatabaseCorrupt,
    actor: str | None,
    start_engine: bool,
) -> MainWindow | int:
    newest = backups.newest_verified(path)
    facts = CorruptFacts(
        db_path=str(path),
        problem=str(exc),
        backup=str(newest.path) if newest else None,
        backup_taken=f"{newest.taken_at:%Y-%m-%d %H:%M} UTC" if newest else None,
        command=f"{integrity.PROG} --db sqlite:///{path} db restore"
        + ("" if newest else " BACKUP"),
    )
    if not CorruptDatabaseDialog(facts).ask() or newest is None:
        return exc.exit_code
    try:
        restore_recorded(path, newest, actor or default_actor(), RESTORED_AT_START)
        window = create_window(url, actor=actor, start_engine=start_engine)
    except SophmateError as again:
        return _cannot_start(app, again)
    print(f"note: restored {path} from {newest.path}", file=sys.stderr, flush=True)
    return window


def serve_later_launches(window: MainWindow, instance: SingleInstance) -> None:
    """A later launch on the same database raises `window` instead of opening another."""
    instance.raise_requested.connect(window.bring_to_front)
    instance.listen()


def _start_log() -> None:
    from sophmate_desktop.logs import setup_logging

    try:
        log.info("log file %s", setup_logging())
    except OSError as exc:  # an unwritable log folder must not stop the window
        print(f"warning: no log file: {exc}", file=sys.stderr)


def run_gui(db_url: str | None = None, actor: str | None = None) -> int:
    """Start the desktop application: one instance per database on this host."""
    from sophmate_desktop.platform_check import xcb_problem

    problem = xcb_problem() if QApplication.instance() is None else None
    if problem:  # Qt would abort and name the wrong library
        print(f"error: {problem}", file=sys.stderr, flush=True)
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("SophMate Desktop")
    app.setOrganizationDomain("sophmate.io")
    app.setDesktopFileName("io.sophmate.Desktop")
    app.setQuitOnLastWindowClosed(False)
    install_translator(app)  # the system's language, when a translation is shipped
    try:
        url = db_url or default_db_url()
    except SophmateError as exc:
        return _cannot_start(app, exc)
    instance = SingleInstance(url)
    if instance.ask_running_instance_to_raise():
        print("SophMate Desktop is already running on this database; raised its window.")
        return 0
    apply_style(app)
    try:
        if is_first_run(url) and not may_create_database(app, url):
            path = parse_url(url).path
            print(f"error: no database at {path}; nothing was created", file=sys.stderr)
            instance.close()
            return 2
    except SophmateError as exc:
        return _cannot_start(app, exc)
    window = open_window(app, url, actor)
    if not isinstance(window, MainWindow):
        instance.close()
        return window
    _start_log()  # once the window is open: a launch that stops leaves nothing behind
    serve_later_launches(window, instance)
    window.quit_requested.connect(app.quit)
    window.show()
    try:
        return app.exec()
    finally:
        window.shutdown()
        instance.close()
