"""Change preview: the last inputs of a workflow planned (never applied) against its
saved revision and an edited, unsaved definition, and what the edit changes."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.domain.names import AuditAction
from sophmate_desktop.domain.workflow import WorkflowDefinition
from sophmate_desktop.store.models import Category, Run, Workflow

if TYPE_CHECKING:
    from sophmate_desktop.console import Console
    from sophmate_desktop.engine.service import PreviewInput

DEFAULT_LAST = 10
MAX_LAST = 500


@dataclass(frozen=True)
class WriteChange:
    change: str  # added | removed | changed
    kind: str
    target: str
    diff: str  # unified diff of the target and the rendered preview text


@dataclass(frozen=True)
class InputPreview:
    run_id: int
    path: str
    available: bool
    reason: str = ""  # unavailable: changed | missing; or why a side could not plan
    unchanged: int = 0
    changes: tuple[WriteChange, ...] = ()

    def count(self, change: str) -> int:
        return sum(1 for c in self.changes if c.change == change)

    def summary(self) -> str:
        if not self.available:
            return f"unavailable: {self.reason}"
        if self.reason:
            return self.reason
        if not self.changes:
            return "unchanged"
        added, removed, changed = (self.count(k) for k in ("added", "removed", "changed"))
        return f"{added} added, {removed} removed, {changed} changed"


@dataclass(frozen=True)
class ChangePreview:
    workflow: str
    revision: int
    inputs: tuple[InputPreview, ...]

    def totals(self) -> dict[str, int]:
        shown = [i for i in self.inputs if i.available]
        return {
            "inputs": len(self.inputs),
            "unavailable": len(self.inputs) - len(shown),
            "changed_inputs": sum(1 for i in shown if i.changes or i.reason),
            "added": sum(i.count("added") for i in shown),
            "removed": sum(i.count("removed") for i in shown),
            "changed": sum(i.count("changed") for i in shown),
        }

    def to_dict(self) -> dict[str, Any]:
        inputs = [{**asdict(i), "summary": i.summary()} for i in self.inputs]
        return {
            "workflow": self.workflow,
            "revision": self.revision,
            "totals": self.totals(),
            "inputs": inputs,
        }


def _text(write: Any) -> list[str]:
    return [f"target: {write.target}\n", *(ln + "\n" for ln in write.preview.splitlines())]


def _diff(saved: Any | None, edited: Any | None, revision: int) -> str:
    before = _text(saved) if saved is not None else []
    after = _text(edited) if edited is not None else []
    lines = difflib.unified_diff(before, after, f"revision {revision}", "edited")
    return "".join(lines)


def _keyed(writes: Iterable[Any]) -> dict[tuple[str, str, int], Any]:
    """Writes by (kind, target, occurrence): two writes to one target pair in order."""
    seen: dict[tuple[str, str], int] = {}
    keyed = {}
    for w in writes:
        n = seen.get((w.kind, w.target), 0)
        seen[(w.kind, w.target)] = n + 1
        keyed[(w.kind, w.target, n)] = w
    return keyed


def compare_writes(saved: list, edited: list, revision: int) -> tuple[int, list[WriteChange]]:
    """(writes unchanged, changes) between the saved and the edited plan."""
    old, new = _keyed(saved), _keyed(edited)
    changes: list[WriteChange] = []
    unchanged = 0
    for key in [*old, *(k for k in new if k not in old)]:
        a, b = old.get(key), new.get(key)
        if a is not None and b is not None and (a.preview, a.summary) == (b.preview, b.summary):
            unchanged += 1
            continue
        change = "added" if a is None else "removed" if b is None else "changed"
        changes.append(WriteChange(change, key[0], key[1], _diff(a, b, revision)))
    return unchanged, changes


def _plan_or_error(defn: WorkflowDefinition, item: PreviewInput) -> tuple[list, str]:
    # The engine is imported when a preview runs: a pause from the CLI must not pay it.
    from sophmate_desktop.engine.service import PreviewFailed, plan_preview

    try:
        return plan_preview(defn, item), ""
    except PreviewFailed as exc:
        return [], str(exc)


def preview_input(
    saved: WorkflowDefinition, edited: WorkflowDefinition, item: PreviewInput, revision: int
) -> InputPreview:
    from sophmate_desktop.engine.service import file_sha256_or_none

    digest = file_sha256_or_none(item.path)
    if digest is None or digest != item.sha256:
        why = "missing" if digest is None else "changed since the run"
        return InputPreview(item.run_id, str(item.path), False, why)
    before, before_error = _plan_or_error(saved, item)
    after, after_error = _plan_or_error(edited, item)
    reason = ""
    if before_error or after_error:
        reason = f"edited definition cannot plan: {after_error}" if after_error else ""
        reason = reason or f"saved revision cannot plan: {before_error}"
    unchanged, changes = compare_writes(before, after, revision)
    return InputPreview(item.run_id, str(item.path), True, reason, unchanged, tuple(changes))


def recorded_inputs(workflow_id: int, last: int) -> list[PreviewInput]:
    """The trigger files of the workflow's last runs, newest first, each file once."""
    from sophmate_desktop.engine.service import PreviewInput

    query = (
        Run.select(Run.id, Run.trigger_path, Run.trigger_hash, Run.mode)
        .where(
            Run.workflow == workflow_id,
            Run.trigger_path.is_null(False),
            Run.trigger_hash.is_null(False),
        )
        .order_by(Run.id.desc())
        .tuples()
    )
    items: list[PreviewInput] = []
    seen: set[tuple[str, str]] = set()
    for run_id, path, digest, mode in query.iterator():
        if (path, digest) in seen:
            continue
        seen.add((path, digest))
        items.append(PreviewInput(run_id, Path(path), digest, mode))
        if len(items) >= last:
            break
    return items


class ChangePreviewOps:
    def preview_change(
        self: Console, edited: WorkflowDefinition, last: int = DEFAULT_LAST
    ) -> ChangePreview:
        """Replays the last `last` inputs of the saved workflow named like `edited`,
        plan-only, against both definitions. Writes nothing but one audit event."""
        if not 1 <= last <= MAX_LAST:
            raise BadInput(f"--last: expected 1 to {MAX_LAST} inputs, got {last}")
        wf = Workflow.get_or_none(Workflow.name == edited.name)
        if wf is None:
            raise BadInput(f"name: no saved workflow named {edited.name!r} to compare with")
        from sophmate_desktop.domain.workflow_file import definition_from_dict

        saved = definition_from_dict(wf.definition)
        items = recorded_inputs(wf.id, last)
        inputs = tuple(preview_input(saved, edited, item, wf.revision) for item in items)
        result = ChangePreview(wf.name, wf.revision, inputs)
        category = Category.get_by_id(wf.category_id).name
        with self.transaction():
            self.audit(
                AuditAction.WORKFLOW_PREVIEWED,
                subject=wf.name,
                category=category,
                workflow=wf.name,
                details={"revision": wf.revision, **result.totals()},
            )
        return result
