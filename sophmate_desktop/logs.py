"""The application's log: in the platform's log folder (platformdirs: on Linux
~/.local/state/sophmate-desktop/log), rotated so it never grows without bound.

The window sets it up at start (gui_app.run_gui) and opens it from Help > Open log;
SOPHMATE_LOG_DIR names another folder (tests, a portable install).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

LOG_NAME = "sophmate-desktop.log"
MAX_BYTES = 1024 * 1024  # per file
BACKUPS = 5  # sophmate-desktop.log.1 ... .5: at most 6 MiB in all
FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"


def log_folder() -> Path:
    """Where the log files go (not created here)."""
    override = os.environ.get("SOPHMATE_LOG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_log_dir("sophmate-desktop", appauthor=False))


def setup_logging(folder: Path | None = None, level: int = logging.INFO) -> Path:
    """Log to a rotating file in `folder` (default `log_folder()`); returns its path.
    Calling it again adds no second handler."""
    folder = folder or log_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_NAME
    root = logging.getLogger()
    for handler in root.handlers:
        if (
            isinstance(handler, logging.handlers.RotatingFileHandler)
            and Path(handler.baseFilename) == path.resolve()
        ):
            return path
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    return path
