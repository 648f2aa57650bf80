"""What the workflows page says about importing and exporting a workflow file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sophmate_desktop.store.rows import WorkflowRow
from sophmate_desktop.ui.translation import Plural, translate
from sophmate_desktop.ui.widgets.wf_document import describe_error


def imported_text(row: WorkflowRow) -> str:
    missing = (
        translate("sophmate", " The checklist still misses {items}.").format(
            items=", ".join(row.missing_checklist)
        )
        if row.missing_checklist
        else ""
    )
    return translate("sophmate", "Imported {name} (revision {revision}).{missing}").format(
        name=row.name, revision=row.revision, missing=missing
    )


def import_error_text(path: str, error: str) -> str:
    return translate("sophmate", "Cannot import {path}: {error}").format(path=path, error=error)


def invalid_file_text(path: str, errors: Sequence[object]) -> str:
    """The file is not a valid workflow: how many problems, then each one."""
    n = len(errors)
    problems = Plural.tr("%n problem", "", n) if n == 1 else Plural.tr("%n problems", "", n)
    return translate("sophmate", "Cannot import {name}: {problems}\n{lines}").format(
        name=Path(path).name,
        problems=problems,
        lines="\n".join(describe_error(e) for e in errors),
    )


def not_imported_note(path: str) -> str:
    return translate("sophmate", "{name} was not imported: fix it here, then save.").format(
        name=Path(path).name
    )


def exported_text(name: str, path: str) -> str:
    return translate("sophmate", "Exported {name} to {path}.").format(name=name, path=path)


def export_error_text(name: str, error: str) -> str:
    return translate("sophmate", "Cannot export {name}: {error}").format(name=name, error=error)
