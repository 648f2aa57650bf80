"""At start, a team database that does not answer: not a dead end. The person may
retry (the server was restarting), use the local database for now, or correct the
connection; Quit leaves with the exit code of an unreachable database."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.ui.translation import translate

RETRY, LOCAL, EDIT, QUIT = "retry", "local", "edit", "quit"


class UnreachableDatabaseDialog(QDialog):
    def __init__(self, problem: str, shown_url: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("unreachableDatabase")
        self.setWindowTitle(
            translate("sophmate", "SophMate Desktop: the team database does not answer")
        )
        self.setMinimumWidth(520)
        self.choice = QUIT
        layout = QVBoxLayout(self)
        text = QLabel(
            translate(
                "sophmate",
                "The team database {url} cannot be reached:\n{problem}\n\nRetry when the "
                "server is back, work on the local database of this computer for now, or "
                "correct the connection.",
            ).format(url=shown_url, problem=problem)
        )
        text.setObjectName("unreachableText")
        text.setWordWrap(True)
        layout.addWidget(text)
        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("teamUrlEdit")
        self.url_edit.setPlaceholderText(self.tr("postgresql://user:password@host:5432/sophmate"))
        self.url_edit.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        self.url_edit.hide()
        layout.addWidget(self.url_edit)
        self.buttons = QDialogButtonBox()
        self.retry_button = self._button(RETRY, translate("sophmate", "&Retry"))
        self.local_button = self._button(LOCAL, translate("sophmate", "Use the &local database"))
        self.edit_button = self._button(EDIT, translate("sophmate", "&Edit connection…"))
        self.quit_button = self._button(QUIT, translate("sophmate", "&Quit"))
        self.retry_button.setDefault(True)
        layout.addWidget(self.buttons)

    def _button(self, choice: str, text: str) -> QPushButton:
        button = self.buttons.addButton(text, QDialogButtonBox.ButtonRole.ActionRole)
        button.setObjectName(f"{choice}Button")
        button.clicked.connect(lambda: self._chosen(choice))
        return button

    def _chosen(self, choice: str) -> None:
        if choice == EDIT and self.url_edit.isHidden():
            # first click shows the field; the second (now "Connect") tries it
            self.url_edit.show()
            self.url_edit.setFocus()
            self.edit_button.setText(translate("sophmate", "&Connect"))
            return
        if choice == EDIT and not self.url_edit.text().strip():
            return
        self.choice = choice
        self.accept() if choice != QUIT else self.reject()

    @property
    def new_url(self) -> str:
        return self.url_edit.text().strip()
