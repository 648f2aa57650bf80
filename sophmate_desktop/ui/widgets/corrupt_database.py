"""The question the window asks when its database is corrupt at start: it names the
file and what the check found, the newest verified backup (or that there is none)
and the command that restores it, and offers to restore that backup now or to quit.
The caller (gui_app) does the restore; this is the question only."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QMessageBox, QWidget


@dataclass(frozen=True)
class CorruptFacts:
    db_path: str
    problem: str  # the whole message of the check (file, problem, backup, command)
    backup: str | None  # the newest verified backup's path
    backup_taken: str | None  # when, as text ("2026-12-06 01:23 UTC")
    command: str  # the restore command for a terminal


class CorruptDatabaseDialog(QMessageBox):
    def __init__(self, facts: CorruptFacts, parent: QWidget | None = None) -> None:
        title = self.tr("SophMate Desktop: the database is corrupt")
        super().__init__(QMessageBox.Icon.Critical, title, "", parent=parent)
        self.setObjectName("corruptDatabase")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(
            self.tr("The database {db_path} is corrupt: it cannot be used as it is.").format(
                db_path=facts.db_path
            )
        )
        if facts.backup:
            what = self.tr(
                "Newest verified backup: {backup} (taken {taken}).\n\n"
                "Restore puts that backup in place (what changed since it was taken is "
                "not in it); the corrupt file is kept beside it as NAME.corrupt-TIME. "
                "Or quit and restore from a terminal:"
            ).format(backup=facts.backup, taken=facts.backup_taken)
        else:
            what = self.tr(
                "There is no verified backup of it. Keep a copy of the file, then restore "
                "a backup you have from a terminal:"
            )
        self.setInformativeText(what)
        self.setDetailedText(facts.problem)
        self.command_edit = QLineEdit(facts.command)  # selectable, to copy
        self.command_edit.setObjectName("restoreCommand")
        self.command_edit.setReadOnly(True)
        self.command_edit.setMinimumWidth(480)
        grid = self.layout()
        grid.addWidget(self.command_edit, grid.rowCount(), 0, 1, grid.columnCount())
        self.restore_button = None
        if facts.backup:
            self.restore_button = self.addButton(
                self.tr("&Restore the newest backup"), QMessageBox.ButtonRole.AcceptRole
            )
            self.restore_button.setObjectName("restoreBackup")
        self.quit_button = self.addButton(self.tr("&Quit"), QMessageBox.ButtonRole.RejectRole)
        self.quit_button.setObjectName("quitCorrupt")
        self.setDefaultButton(self.quit_button)  # restoring drops changes: never by Enter
        self.setEscapeButton(self.quit_button)

    def ask(self) -> bool:
        """True: restore the newest backup."""
        self.exec()
        return self.restore_button is not None and self.clickedButton() is self.restore_button
