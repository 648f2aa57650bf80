"""Enabling, disabling (with a reason) and promoting a workflow from the page.

Refusals (an incomplete checklist, too few reviewed runs) come back through `said`
in the console's own words, for the page to show in place; `changed` asks the page
to re-read what it shows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QT_TRANSLATE_NOOP, QObject, Signal
from PySide6.QtWidgets import QWidget

from sophmate_desktop.console import Console
from sophmate_desktop.console.workflow_pages import WorkflowOverview
from sophmate_desktop.domain.errors import FolderMissing, SophmateError
from sophmate_desktop.store.rows import WorkflowRow
from sophmate_desktop.ui.translation import translate
from sophmate_desktop.ui.widgets.wf_columns import stage_text
from sophmate_desktop.ui.widgets.wf_dialogs import ConfirmDialog, ReasonDialog

log = logging.getLogger(__name__)

STAGE_EFFECT = {  # marked for lupdate here, translated where shown
    "staging": QT_TRANSLATE_NOOP(
        "sophmate",
        "In staging its file writes go to its staging paths, and e-mail and HTTP "
        "use the staging settings of their connections.",
    ),
    "production": QT_TRANSLATE_NOOP(
        "sophmate",
        "In production it writes to its real outputs; writes still wait for "
        "approval as its approval gate says.",
    ),
}


def explain(exc: BaseException | None) -> str:
    """An error in words for the person (never a stack trace)."""
    if isinstance(exc, SophmateError | OSError | TimeoutError):
        return str(exc) or type(exc).__name__
    log.error("workflows page: unexpected error", exc_info=exc)
    return translate("sophmate", "unexpected error: {error}").format(error=exc)


def save_note(
    before: WorkflowRow | None, row: WorkflowRow, old_name: str | None, base_revision: int | None
) -> str:
    """What a save did, in words: the new revision, or none; a rename; someone else's
    revision replaced meanwhile; a disable the save caused."""
    if before is not None and before.revision == row.revision:
        note = translate("sophmate", "No changes: {name} stays at revision {revision}.")
    else:
        note = translate("sophmate", "Saved {name} as revision {revision}.")
    note = note.format(name=row.name, revision=row.revision)
    if old_name is not None and old_name != row.name:
        note += translate("sophmate", " That is a new workflow; {old} is unchanged.").format(
            old=old_name
        )
    if old_name == row.name and before is not None and before.revision != base_revision:
        note += translate(
            "sophmate",
            " Meanwhile {who} had saved revision {revision}; "
            "yours replaced it (the audit trail keeps both).",
        ).format(who=before.updated_by, revision=before.revision)
    if before is not None and before.enabled and not row.enabled:
        note += translate("sophmate", " It was disabled: missing {items}.").format(
            items=", ".join(row.missing_checklist)
        )
    return note


def unsaved_enable_text(name: str) -> str:
    return translate(
        "sophmate",
        "Save your changes to {name} first (Ctrl+S): Enable checks and enables the "
        "saved revision, not the edits in the form.",
    ).format(name=name)


def complete_unsaved_text(name: str) -> str:
    return translate(
        "sophmate",
        "The checklist of {name} is complete in your changes: save them (Ctrl+S), then Enable.",
    ).format(name=name)


class WorkflowLifecycle(QObject):
    said = Signal(str, str)  # text, tone ("ok" | "error" | "info")
    changed = Signal()

    def __init__(self, console: Console, parent: QWidget) -> None:
        super().__init__(parent)
        self.console = console
        self._window = parent
        self.folder_dialog: ConfirmDialog | None = None

    def enable(self, row: WorkflowOverview, create_folder: bool = False) -> None:
        try:
            self.console.enable_workflow(row.name, create_folder=create_folder)
        except FolderMissing as exc:  # ask, rather than enable a trigger that cannot fire
            self.said.emit(explain(exc), "error")
            self._offer_folder(row, exc.folder)
            return
        except SophmateError as exc:
            self.said.emit(explain(exc), "error")
            return
        finally:
            self.changed.emit()
        made = self.tr(" Its watched folder was created.") if create_folder else ""
        self.said.emit(
            self.tr("{name} is enabled: its trigger starts runs.{made}").format(
                name=row.name, made=made
            ),
            "ok",
        )

    def _offer_folder(self, row: WorkflowOverview, folder: str) -> None:
        dialog = ConfirmDialog(
            self.tr("Watched folder missing"),
            self.tr(
                "{name} watches {folder}, which does not exist: no file could ever start "
                "a run. Create the folder and enable {name}?"
            ).format(name=row.name, folder=folder),
            self.tr("Create folder and enable"),
            self._window,
        )
        dialog.setObjectName("createFolderDialog")
        dialog.accepted.connect(lambda: self.enable(row, create_folder=True))
        dialog.open()
        self.folder_dialog = dialog

    def disable(self, row: WorkflowOverview) -> None:
        dialog = ReasonDialog(
            self.tr("Disable {name}").format(name=row.name),
            self.tr(
                "{name} stops starting runs from its trigger. Runs already started "
                "finish; pending writes stay in the inbox."
            ).format(name=row.name),
            self.tr("Disable"),
            self._window,
        )
        dialog.submitted.connect(lambda reason: self._disable(row.name, reason))
        dialog.open()

    def _disable(self, name: str, reason: str) -> None:
        if self._call(lambda: self.console.disable_workflow(name, reason)):
            self.said.emit(
                self.tr("{name} is disabled: {reason}").format(name=name, reason=reason), "ok"
            )

    def promote(self, row: WorkflowOverview) -> None:
        """Check graduation first: a refusal says what is missing, without a dialog."""
        target = row.next_stage
        if target is None:
            self.said.emit(
                self.tr("{name} is already in production.").format(name=row.name), "info"
            )
            return
        try:
            refusal = self.console.graduation_status(row.name, target)
        except SophmateError as exc:
            self.said.emit(explain(exc), "error")
            return
        if refusal:
            self.said.emit(f"{row.name}: {refusal}", "error")
            return
        effect = STAGE_EFFECT.get(target.value)
        dialog = ConfirmDialog(
            self.tr("Promote {name}").format(name=row.name),
            self.tr("Promote {name} from {stage} to {target}? {effect}").format(
                name=row.name,
                stage=stage_text(row.stage),
                target=stage_text(target),
                effect=translate("sophmate", effect) if effect else "",
            ),
            self.tr("Promote to {target}").format(target=stage_text(target)),
            self._window,
        )
        dialog.accepted.connect(lambda: self._promote(row.name, target.value))
        dialog.open()

    def _promote(self, name: str, target: str) -> None:
        if self._call(lambda: self.console.promote(name, target)):
            self.said.emit(
                self.tr("{name} is now in {stage}.").format(name=name, stage=stage_text(target)),
                "ok",
            )

    def _call(self, fn: Callable[[], object]) -> bool:
        """A quick console call; a refusal is said. True when it succeeded."""
        try:
            fn()
        except SophmateError as exc:
            self.said.emit(explain(exc), "error")
            return False
        finally:
            self.changed.emit()
        return True
