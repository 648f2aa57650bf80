"""Composition root: the command line now; the window when no command is given."""

from __future__ import annotations

import argparse
import sys

from sophmate_desktop import cli


def _no_window(args: argparse.Namespace) -> int:
    print(
        "The SophMate Desktop window arrives with the desktop console.\n"
        "Until then, use one of the commands below.\n"
    )
    cli.print_help(sys.stdout)
    return 0


def main(argv: list[str] | None = None) -> int:
    return cli.main(argv, no_command=_no_window)
