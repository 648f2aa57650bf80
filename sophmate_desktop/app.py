"""Composition root: the window when no command is given, else the command line."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from sophmate_desktop import cli

if TYPE_CHECKING:
    from sophmate_desktop.ui.main_window import MainWindow


def create_window(
    db_url: str | None = None, actor: str | None = None, start_engine: bool = True, **options
) -> MainWindow:
    """The main window on `db_url` (engine started unless told not to), no event loop;
    `options` as gui_app.create_window takes them."""
    from sophmate_desktop.gui_app import create_window as build

    return build(db_url, actor=actor, start_engine=start_engine, **options)


def _run_window(args: argparse.Namespace) -> int:
    from sophmate_desktop.gui_app import run_gui

    return run_gui(args.db, actor=args.actor)


def main(argv: list[str] | None = None) -> int:
    return cli.main(argv, no_command=_run_window)


if __name__ == "__main__":
    sys.exit(main())
