"""Builds the window and its services (the GUI's composition root)."""

from __future__ import annotations

from sophmate_desktop.console import Console
from sophmate_desktop.engine.secrets import SecretStore
from sophmate_desktop.engine.service import Engine
from sophmate_desktop.store.database import default_db_url, open_database, parse_url
from sophmate_desktop.ui.bridge import EventBridge
from sophmate_desktop.ui.main_window import MainWindow
from sophmate_desktop.ui.navigator import Navigator
from sophmate_desktop.ui.services import UiServices
from sophmate_desktop.ui.tasks import TaskRunner


def is_first_run(db_url: str) -> bool:
    """True when the (SQLite) database does not exist yet: the welcome page opens."""
    target = parse_url(db_url)
    return target.kind == "sqlite" and target.path is not None and not target.path.exists()


def create_window(
    db_url: str | None = None, actor: str | None = None, start_engine: bool = True
) -> MainWindow:
    """The main window on `db_url`, its engine started when asked; no event loop.

    Call `window.shutdown()` (or Quit) to stop the engine and background tasks.
    """
    url = db_url or default_db_url()
    first_run = is_first_run(url)
    db = open_database(url)
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
    )
    window = MainWindow(services, first_run=first_run)
    bridge.setParent(window)
    services.tasks.setParent(window)
    services.navigator.setParent(window)
    if engine is not None:
        engine.start()
    return window


def run_gui(db_url: str | None = None, actor: str | None = None) -> int:
    """Start the desktop application: one instance per database on this host."""
    import sys

    from PySide6.QtWidgets import QApplication, QMessageBox

    from sophmate_desktop.domain.errors import SophmateError
    from sophmate_desktop.ui.single_instance import SingleInstance
    from sophmate_desktop.ui.style import apply_style

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("SophMate Desktop")
    app.setOrganizationDomain("sophmate.io")
    app.setDesktopFileName("io.sophmate.Desktop")
    app.setQuitOnLastWindowClosed(False)
    try:
        url = db_url or default_db_url()
    except SophmateError as exc:
        QMessageBox.critical(None, "SophMate Desktop cannot start", str(exc))
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    instance = SingleInstance(url)
    if instance.ask_running_instance_to_raise():
        print("SophMate Desktop is already running on this database; raised its window.")
        return 0
    apply_style(app)
    try:
        window = create_window(url, actor=actor)
    except SophmateError as exc:
        QMessageBox.critical(None, "SophMate Desktop cannot start", str(exc))
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    instance.raise_requested.connect(window.bring_to_front)
    instance.listen()
    window.quit_requested.connect(app.quit)
    window.show()
    try:
        return app.exec()
    finally:
        window.shutdown()
        instance.close()
