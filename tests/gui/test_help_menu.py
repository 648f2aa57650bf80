"""Help > Open log opens the log file the window writes, through the desktop."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMenu

from sophmate_desktop.logs import setup_logging


class Opened(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def show(self, url: QUrl) -> None:
        self.urls.append(url)


def test_help_open_log_opens_the_log_file(make_window, qtbot, tmp_path):
    root = logging.getLogger()
    before = list(root.handlers)
    path = setup_logging(tmp_path / "log")
    opened = Opened()
    QDesktopServices.setUrlHandler("file", opened, "show")
    try:
        window = make_window()
        help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
        assert isinstance(help_menu, QMenu)
        action = next(a for a in help_menu.actions() if a.objectName() == "openLogAction")
        action.trigger()
        assert [u.toLocalFile() for u in opened.urls] == [str(path)]
        window.open_log(folder=True)
        assert opened.urls[-1].toLocalFile() == str(path.parent)
    finally:
        QDesktopServices.unsetUrlHandler("file")
        for handler in root.handlers:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
