"""The Form tab of the workflow editor: one field per setting of the workflow file.

`set_document(doc)` fills the fields from a raw document; `document(base)` gives the
document back, starting from `base` so keys the form does not show (an admin's
customer-facing override, a key the YAML tab added) are kept. Numbers are typed as
text, so a wrong value reaches the validator and its message appears at the field:
`show_errors` marks the field (dynamic property `invalid`, plus an inline border as a
fallback) and writes the message under it.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml
from PySide6.QtCore import QT_TRANSLATE_NOOP, QSignalBlocker, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from sophmate_desktop.domain.enums import ApprovalMode, InputRead, TriggerEvent
from sophmate_desktop.domain.workflow_file import FieldError
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.wf_document import (
    field_key,
    join_list,
    ordered,
    parse_number,
    shown,
    split_list,
    steps_to_yaml,
)

INVALID_STYLE = "border: 1px solid #c62828; border-radius: 2px;"
ERROR_STYLE = "color: #c62828;"
SECTIONS = ("trigger", "input", "output", "approval", "retry", "notify", "pause")

# (key in its section, label, kind) per section; kinds: text, number, list, bool, choice
_FIELDS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "": (
        ("name", QT_TRANSLATE_NOOP("sophmate", "Na&me"), "text"),
        ("category", QT_TRANSLATE_NOOP("sophmate", "&Category"), "text"),
        ("owner", QT_TRANSLATE_NOOP("sophmate", "&Owner"), "text"),
        ("description", QT_TRANSLATE_NOOP("sophmate", "Descrip&tion"), "multiline"),
    ),
    "trigger": (
        ("folder", QT_TRANSLATE_NOOP("sophmate", "Folder"), "text"),
        ("patterns", QT_TRANSLATE_NOOP("sophmate", "Patterns"), "list"),
        ("ignore", QT_TRANSLATE_NOOP("sophmate", "Ignore"), "list"),
        ("events", QT_TRANSLATE_NOOP("sophmate", "Events"), "events"),
        ("settle_ms", QT_TRANSLATE_NOOP("sophmate", "Settle time (ms)"), "number"),
        ("interval_s", QT_TRANSLATE_NOOP("sophmate", "Interval (s)"), "number"),
        ("cron", QT_TRANSLATE_NOOP("sophmate", "Cron schedule"), "text"),
        ("timezone", QT_TRANSLATE_NOOP("sophmate", "Time zone"), "text"),
        ("catch_up", QT_TRANSLATE_NOOP("sophmate", "Catch up (latest, none, all)"), "text"),
        ("recursive", QT_TRANSLATE_NOOP("sophmate", "Include subfolders"), "bool"),
        ("polling", QT_TRANSLATE_NOOP("sophmate", "Poll (network share)"), "bool"),
        ("manual", QT_TRANSLATE_NOOP("sophmate", "Manual runs"), "bool"),
    ),
    "input": (
        ("read", QT_TRANSLATE_NOOP("sophmate", "Read as"), "read"),
        ("max_bytes", QT_TRANSLATE_NOOP("sophmate", "Max bytes"), "number"),
        ("encoding", QT_TRANSLATE_NOOP("sophmate", "Encoding"), "text"),
    ),
    "output": (
        ("paths", QT_TRANSLATE_NOOP("sophmate", "Paths"), "list"),
        ("staging_paths", QT_TRANSLATE_NOOP("sophmate", "Staging paths"), "list"),
    ),
    "approval": (
        ("mode", QT_TRANSLATE_NOOP("sophmate", "Mode"), "approval"),
        ("reviewed_runs", QT_TRANSLATE_NOOP("sophmate", "Reviewed runs"), "number"),
    ),
    "graduation": (("staging_runs", QT_TRANSLATE_NOOP("sophmate", "Staging runs"), "number"),),
    "retry": (
        ("limit", QT_TRANSLATE_NOOP("sophmate", "Retry limit"), "number"),
        ("backoff_s", QT_TRANSLATE_NOOP("sophmate", "Backoff (s)"), "number"),
    ),
    "notify": (("on_failure", QT_TRANSLATE_NOOP("sophmate", "On failure"), "list"),),
    "pause": (
        ("consecutive_failures", QT_TRANSLATE_NOOP("sophmate", "After failures"), "number"),
        ("on_provider_change", QT_TRANSLATE_NOOP("sophmate", "On provider change"), "bool"),
        ("on_plugin_update", QT_TRANSLATE_NOOP("sophmate", "On plug-in update"), "bool"),
    ),
}
_TITLES = {  # no mnemonics: Alt+letter on a checkable group would untick it
    "trigger": QT_TRANSLATE_NOOP("sophmate", "Trigger"),
    "input": QT_TRANSLATE_NOOP("sophmate", "Input scope"),
    "output": QT_TRANSLATE_NOOP("sophmate", "Output"),
    "approval": QT_TRANSLATE_NOOP("sophmate", "Approval gate"),
    "graduation": QT_TRANSLATE_NOOP("sophmate", "Graduation"),
    "retry": QT_TRANSLATE_NOOP("sophmate", "Retry"),
    "notify": QT_TRANSLATE_NOOP("sophmate", "Notification"),
    "pause": QT_TRANSLATE_NOOP("sophmate", "Pause rule"),
}
_HINTS = {
    "trigger.patterns": "*.csv, *.txt",
    "trigger.ignore": "*.tmp",
    "output.paths": "~/accounting/inbox",
    "output.staging_paths": "~/accounting/staging",
    "notify.on_failure": "tray, email:ops@example.test",
    "trigger.folder": "~/invoices/incoming",
}


def mark(widget: QWidget, invalid: bool) -> None:
    """Set the `invalid` property the style sheet uses, with an inline fallback."""
    if bool(widget.property("invalid")) == invalid:
        return
    widget.setProperty("invalid", invalid)
    widget.setStyleSheet(f"#{widget.objectName()} {{ {INVALID_STYLE} }}" if invalid else "")
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class WorkflowForm(QScrollArea):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.fields: dict[str, QWidget] = {}  # field key ("retry.limit") -> input widget
        self.groups: dict[str, QGroupBox] = {}
        self._error_labels: dict[str, QLabel] = {}
        self._events: dict[str, QCheckBox] = {}
        self._marked: set[str] = set()

        body = QWidget()
        grid = QGridLayout(body)
        left, right = QVBoxLayout(), QVBoxLayout()
        grid.addLayout(left, 0, 0)
        grid.addLayout(right, 0, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        left.addWidget(self._group("", self.tr("Workflow")))
        for section in ("trigger", "input", "output"):
            left.addWidget(self._group(section, translate("sophmate", _TITLES[section])))
        left.addStretch(1)
        right.addWidget(self._steps_group())
        for section in ("approval", "graduation", "retry", "notify", "pause"):
            right.addWidget(self._group(section, translate("sophmate", _TITLES[section])))
        right.addWidget(self._rollback_group())
        right.addStretch(1)
        self.note = QLabel()
        self.note.setObjectName("formNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(ERROR_STYLE)
        self.note.hide()
        grid.addWidget(self.note, 1, 0, 1, 2)
        self.setWidget(body)

    # Building ------------------------------------------------------------

    def _error_label(self, key: str) -> QLabel:
        label = QLabel()
        label.setObjectName("fieldError")
        label.setWordWrap(True)
        label.setStyleSheet(ERROR_STYLE)
        label.hide()
        self._error_labels[key] = label
        return label

    def _group(self, section: str, title: str) -> QGroupBox:
        box = QGroupBox(title)
        box.setObjectName(f"{section or 'workflow'}Group")
        form = QFormLayout()
        outer = QVBoxLayout(box)
        outer.addWidget(self._error_label(section or "(document)"))
        outer.addLayout(form)
        if section in SECTIONS:
            box.setCheckable(True)
            box.setToolTip(
                translate("sophmate", "Untick to leave this section out of the workflow")
            )
            box.toggled.connect(self.changed)
        self.groups[section] = box
        for name, label, kind in _FIELDS[section]:
            key = f"{section}.{name}" if section else name
            widget = self._input(key, kind)
            holder = QWidget()
            column = QVBoxLayout(holder)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(2)
            column.addWidget(widget)
            column.addWidget(self._error_label(key))
            caption = QLabel(translate("sophmate", label))
            caption.setBuddy(widget)
            form.addRow(caption, holder)
        return box

    def _input(self, key: str, kind: str) -> QWidget:
        widget: QWidget
        if kind == "multiline":
            widget = QPlainTextEdit()
            widget.setFixedHeight(54)
            widget.textChanged.connect(self.changed)
        elif kind == "bool":
            widget = QCheckBox()
            widget.toggled.connect(self.changed)
        elif kind in ("read", "approval"):
            widget = QComboBox()
            values = InputRead if kind == "read" else ApprovalMode
            widget.addItems([v.value for v in values])
            widget.currentTextChanged.connect(self.changed)
        elif kind == "events":
            widget = QWidget()
            row = QHBoxLayout(widget)
            row.setContentsMargins(0, 0, 0, 0)
            for event in TriggerEvent:
                box = QCheckBox(event.value)
                box.setObjectName(f"event_{event.value}")
                box.toggled.connect(self.changed)
                self._events[event.value] = box
                row.addWidget(box)
            row.addStretch(1)
        else:
            widget = QLineEdit()
            widget.setPlaceholderText(_HINTS.get(key, ""))
            widget.textEdited.connect(self.changed)
        widget.setObjectName(f"field_{key.replace('.', '_')}")
        self.fields[key] = widget
        return widget

    def _steps_group(self) -> QGroupBox:
        box = QGroupBox(translate("sophmate", "Steps (a YAML list)"))
        box.setObjectName("stepsGroup")
        layout = QVBoxLayout(box)
        self.steps_edit = QPlainTextEdit()
        self.steps_edit.setObjectName("field_steps")
        self.steps_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.steps_edit.setMinimumHeight(150)
        self.steps_edit.setPlaceholderText(
            self.tr('- action: copy_file\n  to: "{{ output.path }}/..."')
        )
        self.steps_edit.textChanged.connect(self.changed)
        self.fields["steps"] = self.steps_edit
        self.groups["steps"] = box
        layout.addWidget(self.steps_edit)
        layout.addWidget(self._error_label("steps"))
        return box

    def _rollback_group(self) -> QGroupBox:
        box = QGroupBox(translate("sophmate", "Rollback path"))
        box.setObjectName("rollbackGroup")
        layout = QVBoxLayout(box)
        self.rollback_edit = QPlainTextEdit()
        self.rollback_edit.setObjectName("field_rollback")
        self.rollback_edit.setFixedHeight(54)
        self.rollback_edit.setPlaceholderText(
            translate("sophmate", "How to undo what this workflow did")
        )
        self.rollback_edit.textChanged.connect(self.changed)
        self.fields["rollback"] = self.rollback_edit
        self.groups["rollback"] = box
        layout.addWidget(self.rollback_edit)
        layout.addWidget(self._error_label("rollback"))
        return box

    # Document -> fields ----------------------------------------------------

    def set_document(self, doc: dict[str, Any]) -> None:
        blockers = [QSignalBlocker(w) for w in (*self.fields.values(), *self.groups.values())]
        blockers += [QSignalBlocker(b) for b in self._events.values()]
        for section, specs in _FIELDS.items():
            values = doc if not section else doc.get(section)
            if section in SECTIONS:
                self.groups[section].setChecked(isinstance(values, dict))
            values = values if isinstance(values, dict) else {}
            for name, _label, kind in specs:
                key = f"{section}.{name}" if section else name
                self._set_value(self.fields[key], kind, values.get(name), key)
        self.steps_edit.setPlainText(steps_to_yaml(doc.get("steps")))
        self.rollback_edit.setPlainText(shown(doc.get("rollback")))
        for blocker in blockers:
            blocker.unblock()

    def _set_value(self, widget: QWidget, kind: str, value: Any, key: str) -> None:
        if kind == "bool":
            widget.setChecked(value is True or (value is None and _default_on(key)))
        elif kind in ("read", "approval"):
            default = "text" if kind == "read" else "always"
            widget.setCurrentText(value if isinstance(value, str) else default)
        elif kind == "events":
            chosen = value if isinstance(value, list) else ["created", "moved"]
            for event, box in self._events.items():
                box.setChecked(event in chosen)
        elif kind == "list":
            widget.setText(join_list(value))
        elif kind == "multiline":
            widget.setPlainText(shown(value))
        else:
            widget.setText(shown(value))

    # Fields -> document ----------------------------------------------------

    def document(self, base: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
        """The document the form describes, and problems only the form can see."""
        doc = copy.deepcopy(base)
        problems: list[FieldError] = []
        for section, specs in _FIELDS.items():
            if section in SECTIONS and not self.groups[section].isChecked():
                doc.pop(section, None)
                continue
            target = doc if not section else doc.get(section)
            target = target if isinstance(target, dict) else {}
            for name, _label, kind in specs:
                key = f"{section}.{name}" if section else name
                value = self._value(self.fields[key], kind)
                if value is None:
                    target.pop(name, None)
                else:
                    target[name] = value
            if section and (target or section in SECTIONS):
                doc[section] = target
            elif section:
                doc.pop(section, None)
        steps_text = self.steps_edit.toPlainText()
        if not steps_text.strip():
            doc.pop("steps", None)
        else:
            try:
                doc["steps"] = yaml.safe_load(steps_text)
            except yaml.YAMLError as exc:
                mark_ = getattr(exc, "problem_mark", None)
                where = (
                    translate("sophmate", " (line {line} of the steps)").format(line=mark_.line + 1)
                    if mark_ is not None
                    else ""
                )
                problem = getattr(exc, "problem", None) or str(exc)
                text = translate("sophmate", "YAML syntax error: {problem}{where}")
                problems.append(FieldError("steps", text.format(problem=problem, where=where)))
        rollback = self.rollback_edit.toPlainText()
        if rollback.strip():
            doc["rollback"] = rollback
        else:
            doc.pop("rollback", None)
        return ordered(doc), problems

    def _value(self, widget: QWidget, kind: str) -> Any:
        if kind == "bool":
            return widget.isChecked()
        if kind in ("read", "approval"):
            return widget.currentText()
        if kind == "events":
            return [e for e, box in self._events.items() if box.isChecked()]
        if kind == "multiline":
            text = widget.toPlainText()
            return text if text.strip() else None
        text = widget.text()
        if not text.strip():
            return None
        if kind == "list":
            return split_list(text)
        if kind == "number":
            return parse_number(text)
        return text.strip()

    # Errors ----------------------------------------------------------------

    def show_errors(self, errors: list[FieldError], note: str = "") -> None:
        """Mark each error's field and write its message under it."""
        messages: dict[str, list[str]] = {}
        for error in errors:
            key = self._closest_key(field_key(error.path))
            prefixed = error.message.startswith(f"{error.path}:")
            text = error.message if prefixed else f"{error.path}: {error.message}"
            messages.setdefault(key, []).append(text)
        for key in self._marked - set(messages):
            self._set_error(key, [])
        for key, texts in messages.items():
            self._set_error(key, texts)
        self._marked = set(messages)
        self.note.setText(note)
        self.note.setVisible(bool(note))

    def _closest_key(self, key: str) -> str:
        while key:
            if key in self._error_labels:
                return key
            key = key.rpartition(".")[0]
        return "(document)"

    def _set_error(self, key: str, texts: list[str]) -> None:
        label = self._error_labels[key]
        label.setText("\n".join(texts))
        label.setVisible(bool(texts))
        widget = self.fields.get(key) or self.groups.get(key) or self.groups[""]
        mark(widget, bool(texts))

    def error_text(self, key: str) -> str:
        label = self._error_labels.get(key)
        return label.text() if label is not None and label.isVisibleTo(self) else ""

    def marked_fields(self) -> set[str]:
        return set(self._marked)


def _default_on(key: str) -> bool:
    return key in ("pause.on_provider_change", "pause.on_plugin_update")
