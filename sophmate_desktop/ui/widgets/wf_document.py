"""Plain helpers behind the workflow editor (no widgets).

The editor keeps the workflow as a raw document (the dict a YAML file holds), so a
half-typed form or a YAML text with mistakes can still be shown, validated and
turned into the other tab. Validation itself is the domain's: these helpers only
adapt its input and its error paths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from PySide6.QtCore import QT_TRANSLATE_NOOP

from sophmate_desktop.domain import policy
from sophmate_desktop.domain.workflow import (
    ApprovalSpec,
    InputSpec,
    NotifySpec,
    OutputSpec,
    PauseSpec,
    RetrySpec,
    TriggerSpec,
    WorkflowDefinition,
)
from sophmate_desktop.domain.workflow_file import (
    DOCUMENT,
    FieldError,
    WorkflowFileError,
    definition_from_dict,
    definition_to_yaml,
    parse_workflow_yaml,
)
from sophmate_desktop.domain.workflow_schema import TOP_LEVEL_KEYS
from sophmate_desktop.ui.translation import translate

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_INDEX = re.compile(r"\[[^\]]*\]")

# Where the checklist items live in the form (their warnings are shown there).
CHECKLIST_FIELDS = {
    "owner": "owner",
    "trigger": "trigger",
    "input scope": "input",
    "output": "output",
    "approval gate": "approval",
    "retry limit": "retry",
    "notification path": "notify",
    "pause rule": "pause",
    "rollback path": "rollback",
}
_TEXT_WARNINGS = {  # marked for lupdate here, translated where shown
    "owner": QT_TRANSLATE_NOOP(
        "sophmate",
        "owner: not set; the production checklist needs an owner (a person or a team)",
    ),
    "rollback path": QT_TRANSLATE_NOOP(
        "sophmate",
        "rollback: not set; the production checklist needs a rollback path "
        "(how to undo what the workflow did)",
    ),
}


@dataclass(frozen=True)
class Checked:
    """The outcome of validating the editor's document."""

    definition: WorkflowDefinition | None
    errors: tuple[FieldError, ...]
    document: dict[str, Any] | None  # None when the YAML does not parse to a mapping


def parse_number(text: str) -> Any:
    """A typed number, or the text itself so the validator can name what is wrong."""
    text = text.strip()
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    return text


def split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def join_list(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def shown(value: Any) -> str:
    """How a scalar from the document appears in a text field."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def ordered(doc: dict[str, Any]) -> dict[str, Any]:
    """The document's keys in the order of the file format (unknown keys last)."""
    known = {k: doc[k] for k in TOP_LEVEL_KEYS if k in doc}
    return known | {k: v for k, v in doc.items() if k not in known}


def field_key(path: str) -> str:
    """The form field an error path belongs to: `steps[1].to` -> `steps`,
    `trigger.patterns[0]` -> `trigger.patterns`, `(document)` -> ``."""
    if path == DOCUMENT:
        return ""
    if path.startswith("steps"):
        return "steps"
    return _INDEX.sub("", path)


def check_document(doc: Any) -> Checked:
    """Validate a raw document (no line numbers: it came from the form)."""
    try:
        return Checked(definition_from_dict(doc), (), doc)
    except WorkflowFileError as exc:
        return Checked(None, tuple(exc.errors), doc)


def check_text(text: str) -> Checked:
    """Validate YAML text; errors carry their line numbers."""
    try:
        defn = parse_workflow_yaml(text)
    except WorkflowFileError as exc:
        errors = tuple(exc.errors)
        defn = None
    else:
        errors = ()
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError:
        raw = None
    return Checked(defn, errors, raw if isinstance(raw, dict) else None)


def document_to_yaml(doc: dict[str, Any]) -> str:
    """The YAML tab's text for a document: the export format when it validates."""
    checked = check_document(doc)
    if checked.definition is not None:
        return definition_to_yaml(checked.definition)
    return yaml.safe_dump(
        ordered(doc), sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )


def steps_to_yaml(steps: Any) -> str:
    if steps is None:
        return ""
    return yaml.safe_dump(
        steps, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str) and v.strip())


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def checklist_missing(doc: dict[str, Any] | None) -> list[str] | None:
    """The checklist items a raw document lacks (None when there is no document).

    Works on a document that does not validate yet: only which sections are there
    counts, and the rule itself stays in policy.missing_checklist_items.
    """
    if not isinstance(doc, dict):
        return None

    def present(key: str, spec: Any) -> Any:
        return spec if isinstance(doc.get(key), dict) else None

    output = doc.get("output")
    notify = doc.get("notify")
    presence = WorkflowDefinition(
        name="-",
        category="-",
        owner=_text(doc.get("owner")),
        trigger=present("trigger", TriggerSpec()),
        input=present("input", InputSpec()),
        output=OutputSpec(paths=_texts(output.get("paths"))) if isinstance(output, dict) else None,
        approval=present("approval", ApprovalSpec()),
        retry=present("retry", RetrySpec()),
        notify=NotifySpec(_texts(notify.get("on_failure"))) if isinstance(notify, dict) else None,
        pause=present("pause", PauseSpec()),
        rollback=_text(doc.get("rollback")),
    )
    return policy.missing_checklist_items(presence)


def checklist_warnings(missing: list[str] | None) -> list[FieldError]:
    """Missing text items shown at their form fields (owner, rollback)."""
    return [
        FieldError(CHECKLIST_FIELDS[item], translate("sophmate", _TEXT_WARNINGS[item]))
        for item in missing or ()
        if item in _TEXT_WARNINGS
    ]


def describe_error(error: FieldError) -> str:
    """One line for a list of errors: `line 7: steps[0].to: required field is missing`."""
    where = (
        translate("sophmate", "line {n}: ").format(n=error.line) if error.line is not None else ""
    )
    field = "" if error.path == DOCUMENT else f"{error.path}: "
    return f"{where}{field}{error.message}"


def new_workflow_document(owner: str) -> dict[str, Any]:
    """What "New" starts from: a manual, plan-first workflow that writes one file."""
    return {
        "name": "new-workflow",
        "category": "general",
        "owner": owner,
        "description": "",
        "trigger": {"manual": True},
        "input": {"read": "text", "max_bytes": 10 * 1024 * 1024},
        "output": {"paths": ["~/sophmate/out"], "staging_paths": ["~/sophmate/staging"]},
        "steps": [
            {
                "action": "write_file",
                "to": "{{ output.path }}/{{ file.name }}",
                "content": "{{ input }}",
            }
        ],
        "approval": {"mode": "always"},
        "retry": {"limit": 0, "backoff_s": 30},
        "notify": {"on_failure": ["tray"]},
        "pause": {"consecutive_failures": 3},
    }
