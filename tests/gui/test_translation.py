"""Strings go through Qt's translation: a translation made from the extracted .ts
(pyside6-lupdate, then pyside6-lrelease) changes what the window says; English, the
source text, needs none. The extractor finds the window's strings."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import QApplication

from sophmate_desktop.tools.translations import extract
from sophmate_desktop.ui.translation import install_translator
from sophmate_desktop.ui.widgets.switch_text import held_text
from sophmate_desktop.ui.widgets.wf_columns import stage_text

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


# Texts defined away from where they are shown (page titles, column headers, module
# labels) and counted texts (numerus: one form per German plural form).
MARKED = {
    ("sophmate", "Inbox"): "Eingang",
    ("sophmate", "Summary"): "Zusammenfassung",
    ("sophmate", "staging"): "Vorabnahme",
    ("Plural", "%n held run"): ["%n angehaltener Lauf", "%n angehaltene Läufe"],
    ("Plural", "%n held runs"): ["%n angehaltener Lauf", "%n angehaltene Läufe"],
}


def _fill(ts: Path, wanted: dict) -> None:
    """Translate (context, source) messages of the .ts, as Qt Linguist would."""
    tree = ET.parse(ts)
    done = set()
    for context in tree.getroot().iter("context"):
        name = context.findtext("name")
        for message in context.iter("message"):
            key = (name, message.findtext("source"))
            if key not in wanted:
                continue
            translation = message.find("translation")
            translation.attrib.pop("type", None)
            if isinstance(wanted[key], list):
                assert message.get("numerus") == "yes", key
                for form, text in zip(translation.iter("numerusform"), wanted[key], strict=True):
                    form.text = text
            else:
                translation.text = wanted[key]
            done.add(key)
    assert done == set(wanted), set(wanted) - done  # each one was extracted
    tree.write(ts, encoding="utf-8", xml_declaration=True)


def _release(ts: Path) -> None:
    lrelease = Path(sys.executable).parent / "pyside6-lrelease"
    subprocess.run([str(lrelease), str(ts)], check=True, capture_output=True)
    assert ts.with_suffix(".qm").exists()


def test_marked_and_counted_texts_are_translated_where_shown(make_window, qtbot, tmp_path):
    ts = extract("de", tmp_path)
    _fill(ts, MARKED)
    _release(ts)
    assert held_text(1) == "1 held run" and held_text(3) == "3 held runs"  # English as is

    app = QApplication.instance()
    installed = install_translator(app, QLocale(QLocale.Language.German), tmp_path)
    try:
        assert held_text(1) == "1 angehaltener Lauf"
        assert held_text(3) == "3 angehaltene Läufe"
        assert stage_text("staging") == "Vorabnahme"
        window = make_window()
        pages = [window.page_list.item(i).text() for i in range(window.page_list.count())]
        assert "Eingang" in pages and "Inbox" not in pages
        model = window.pages["inbox"].model
        headers = [
            model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())
        ]
        assert "Zusammenfassung" in headers and "Summary" not in headers
    finally:
        for translator in installed:
            app.removeTranslator(translator)


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
    assert text.count("<message") > 800  # the window's strings, found by lupdate
    assert text.count('numerus="yes"') > 30  # counted texts, with plural forms
