"""Every text the window hands to Qt goes through tr()/translate(): an AST walk over
sophmate_desktop/ui finds the calls that show text (setters, widget and action
constructors, message boxes, status lines) and fails on a plain literal or f-string
passed to them, so a new untranslatable string cannot slip in."""

from __future__ import annotations

import ast
from pathlib import Path

from sophmate_desktop.tools.translations import sources

# Calls whose text arguments a person sees, and which positional arguments hold text.
FIRST = {
    "setText", "setToolTip", "setWindowTitle", "setPlaceholderText", "setTitle",
    "showMessage", "setStatusTip", "setWhatsThis", "setAccessibleName",
    "setAccessibleDescription", "setInformativeText", "setDetailedText", "setLabelText",
    "setCancelButtonText", "setOkButtonText", "say", "addMenu", "setHeaderText",
    "QLabel", "QPushButton", "QCheckBox", "QAction", "QGroupBox", "QRadioButton",
    "QToolButton", "QMenu", "QListWidgetItem", "QTableWidgetItem",
    # the window's own helpers that show a text
    "show_ok", "show_info", "show_warning", "show_error", "heading",
    "heading_label", "_box", "_section", "hint", "Column", "__init__",
}  # fmt: skip
ARGS = {
    "addButton": (0,), "addTab": (1,), "insertTab": (2,), "setTabText": (1,),
    "setTabToolTip": (1,), "setItemText": (1,), "addItem": (0,), "addAction": (0,),
    "information": (1, 2), "warning": (1, 2), "critical": (1, 2), "question": (1, 2),
    "getText": (1, 2), "getItem": (1, 2), "getInt": (1, 2),
    "getOpenFileName": (1,), "getSaveFileName": (1,), "getExistingDirectory": (1,),
    "QMessageBox": (1, 2), "setHorizontalHeaderLabels": (0,), "addRow": (0,),
    "_say": (0, 1), "_confirm": (0, 1), "show_note": (0, 1), "ask": (2, 3, 4),
    "section_table": (1,), "show_message": (0, 1), "show_keyring": (1, 2),
    "CountTile": (1, 2), "ConfirmDialog": (0, 1, 2), "ReasonDialog": (0, 1, 2),
    "SwitchDialog": (0, 1, 2), "_action": (0, 1), "_button": (0, 2),
    "file_dialog": (1,), "input_file_dialog": (1,), "start_from_text": (1,),
}  # fmt: skip
SIGNALS = {"said", "title_changed"}  # signals that carry a text to show
KEYWORDS = {"text", "title", "label", "caption", "toolTip", "placeholderText"}
TONES = {"info", "ok", "error", "warning", "failed"}  # a message's look, not its words


def _is_text(node: ast.AST) -> bool:
    """A literal a person would read: a str with a letter in it, an f-string, a
    literal glued or formatted into one, or a list of such."""
    if isinstance(node, ast.Constant):
        value = node.value
        return isinstance(value, str) and value not in TONES and any(c.isalpha() for c in value)
    if isinstance(node, ast.JoinedStr):
        return any(_is_text(v) for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp):
        return _is_text(node.left) or _is_text(node.right)
    if isinstance(node, ast.IfExp):
        return _is_text(node.body) or _is_text(node.orelse)
    if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "format":
        return _is_text(node.func.value)
    if isinstance(node, ast.List | ast.Tuple):
        return any(_is_text(e) for e in node.elts)
    return False


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _object_name(node: ast.AST) -> bool:
    """ "inboxTable": what a table's super().__init__ gets first is its object name."""
    value = getattr(node, "value", None)
    return isinstance(value, str) and value[:1].islower() and " " not in value


def text_args(call: ast.Call) -> list[ast.AST]:
    """The arguments of `call` that a person reads, when it is a call that shows text."""
    name = _name(call)
    if name == "emit" and getattr(call.func.value, "attr", "") in SIGNALS:
        name = "said"
    positions = (0,) if name in FIRST | {"said"} else ARGS.get(name, ())
    texts = [call.args[i] for i in positions if i < len(call.args)]
    if name in FIRST | ARGS.keys():
        texts += [k.value for k in call.keywords if k.arg in KEYWORDS]
    if name == "__init__":
        texts = [t for t in texts if not _object_name(t)]
    return [t for t in texts if _is_text(t)]


def untranslated(path: Path) -> list[str]:
    """file:line: call for each literal text passed to Qt without tr()."""
    return [
        f"{path.name}:{node.lineno}: {_name(node)}(…)"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and text_args(node)
    ]


def test_the_scan_finds_a_literal_and_passes_a_translated_one(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "label.setText('Saved')\nlabel.setText(f'Saved {n}')\n"
        "QMessageBox.warning(self, 'Title', text)\nself.say('Done' + x)\n"
        "label.setText(self.tr('Saved'))\nlabel.setText(translate('sophmate', 'Saved {n}')"
        ".format(n=n))\nlabel.setText('')\nlabel.setText(' — ')\nlabel.setText(value)\n",
        encoding="utf-8",
    )
    assert [line.split(":")[1] for line in untranslated(sample)] == ["1", "2", "3", "4"]


def test_every_window_text_goes_through_tr():
    found = [hit for path in sources() for hit in untranslated(path)]
    assert not found, f"{len(found)} texts without tr()/translate():\n" + "\n".join(found)
