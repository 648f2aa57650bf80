"""Strings go through Qt's translation: a translation made from the extracted .ts
(pyside6-lupdate, then pyside6-lrelease) changes what the window says; English, the
source text, needs none. The extractor finds the window's strings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QApplication

from sophmate_desktop.tools.translations import extract
from sophmate_desktop.ui.translation import install_translator

WANTED = {"&Help": "&Hilfe", "Open &log": "&Protokoll öffnen", "C&lear filters": "Filter &leeren"}


def _translate(ts: Path) -> None:
    """Fill in WANTED in the .ts as a translator would in Qt Linguist."""
    text = ts.read_text(encoding="utf-8")
    unfinished = '<translation type="unfinished"></translation>'
    for source, target in WANTED.items():
        escaped = f"<source>{source.replace('&', '&amp;')}</source>\n        "
        assert escaped + unfinished in text, source
        done = f"<translation>{target.replace('&', '&amp;')}</translation>"
        text = text.replace(escaped + unfinished, escaped + done)
    ts.write_text(text, encoding="utf-8")


def test_a_shipped_translation_changes_what_the_window_says(make_window, qtbot, tmp_path):
    ts = extract("de", tmp_path)
    _translate(ts)
    lrelease = Path(sys.executable).parent / "pyside6-lrelease"
    subprocess.run([str(lrelease), str(ts)], check=True, capture_output=True)
    assert ts.with_suffix(".qm").exists()

    app = QApplication.instance()
    installed = install_translator(app, QLocale(QLocale.Language.German), tmp_path)
    try:
        assert installed
        window = make_window()
        menus = [a.text() for a in window.menuBar().actions()]
        assert "&Hilfe" in menus and "&Help" not in menus
        assert window.open_log_action.text() == "&Protokoll öffnen"
        inbox = window.pages["inbox"]
        assert inbox.filter_bar.clear_button.text() == "Filter &leeren"
    finally:
        for translator in installed:
            app.removeTranslator(translator)


def test_english_needs_no_translation(qtbot, tmp_path):
    app = QApplication.instance()
    installed = install_translator(app, QLocale(QLocale.Language.English), tmp_path)
    for translator in installed:
        app.removeTranslator(translator)
    assert not [t for t in installed if t.filePath().startswith(str(tmp_path))]
    ts = extract("en", tmp_path)
    text = ts.read_text(encoding="utf-8")
    assert text.count("<message") > 100  # the window's strings, found by lupdate
