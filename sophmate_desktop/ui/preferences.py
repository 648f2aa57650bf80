"""What the window remembers on this desktop between starts: the folder of the last
file chosen, per kind of file. Kept in the user's config folder (QSettings, an INI
file), not in the database: a team shares that, while folders belong to one desktop."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

FILE_NAME = "window.ini"


def default_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("sophmate-desktop", appauthor=False)) / FILE_NAME


class Preferences:
    """The last folder per kind of file ("workflow", "input", "export"); None as the
    path keeps them for this process only."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory: dict[str, str] = {}
        self._settings = QSettings(str(path), QSettings.Format.IniFormat) if path else None

    def last_folder(self, kind: str) -> str:
        """Where the next dialog for `kind` files opens: the last one's folder while it
        is there, else the home folder."""
        if self._settings is not None:
            folder = str(self._settings.value(f"folders/{kind}", "") or "")
        else:
            folder = self._memory.get(kind, "")
        return folder if folder and Path(folder).is_dir() else str(Path.home())

    def remember_file(self, kind: str, chosen: str) -> None:
        folder = str(Path(chosen).parent)
        if self._settings is None:
            self._memory[kind] = folder
            return
        self._settings.setValue(f"folders/{kind}", folder)
        self._settings.sync()  # a crash later must not lose it
