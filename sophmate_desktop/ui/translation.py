"""The window's language: user-visible strings go through Qt's tr() (English is the
source text, shipped as is); a translation for the system's language, when one is
shipped (resources/translations/sophmate_<lang>.qm, made by pyside6-lrelease from the
.ts that `python -m sophmate_desktop.tools.translations LANG` extracts), is
installed at start."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QObject, QTranslator

from sophmate_desktop import resources

PREFIX = "sophmate"


def translations_folder() -> Path:
    return Path(str(resources.root().joinpath("translations")))


def install_translator(
    app: QCoreApplication, locale: QLocale | None = None, folder: Path | None = None
) -> list[QTranslator]:
    """Install the shipped translation for `locale` (default: the system's) and Qt's
    own for its standard dialogs; returns what was installed (nothing for English)."""
    locale = locale or QLocale.system()
    installed = []
    ours = QTranslator(app)
    if ours.load(locale, PREFIX, "_", str(folder or translations_folder())):
        app.installTranslator(ours)
        installed.append(ours)
    qt = QTranslator(app)
    if qt.load(locale, "qtbase", "_", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
        installed.append(qt)
    return installed


def translate(context: str, text: str, disambiguation: str | None = None, n: int = -1) -> str:
    """QCoreApplication.translate under the name pyside6-lupdate looks for: the UI's
    modules wrap their strings as translate("sophmate", "...")."""
    return QCoreApplication.translate(context, text, disambiguation, n)


class Plural(QObject):
    """The context of counted texts outside a widget: lupdate marks `X.tr(text, "", n)`
    as a plural (numerus) message, a translate() call it does not. A count reads

        Plural.tr("%n held run", "", n) if n == 1 else Plural.tr("%n held runs", "", n)

    so the English source text is right without an English .qm, and a translator
    gives each of the two messages all the forms of their language (Qt picks the
    form by n); widgets do the same with self.tr."""
