"""One window per database on a host (placeholder until it lands)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class SingleInstance(QObject):
    raise_requested = Signal()

    def __init__(self, db_url: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db_url = db_url

    def ask_running_instance_to_raise(self) -> bool:
        return False

    def listen(self) -> None:
        pass

    def close(self) -> None:
        pass
