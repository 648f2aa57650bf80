"""undo_file: puts a file back as it was before an applied write (console/undo.py
plans it; no workflow step does).

Payload: {"action": restore | delete | move_back, "target", "blob" (sha256 of the
previous bytes in the undo store, or None), "applied_sha256" (what the write left),
"source" (move_back: where the file came from), "undoes" (the write's id)}.
Idempotent: a target already put back is left alone; a target that holds anything
but what the write left is refused (it changed since it was applied).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sophmate_desktop.domain.enums import EffectKind
from sophmate_desktop.domain.workflow import StepSpec
from sophmate_desktop.engine.actions.base import (
    ActionError,
    ApplyContext,
    ApplyResult,
    PlanContext,
    PlannedWrite,
)
from sophmate_desktop.engine.actions.paths import atomic_copy, file_sha256_or_none
from sophmate_desktop.store.undo_blobs import blob_path

CHANGED = "the file changed since it was applied"


def _done(payload: dict[str, Any], current: str | None) -> bool:
    """Whether the target is already as the undo leaves it."""
    action, blob = payload["action"], payload.get("blob")
    if action == "restore":
        return current is not None and current == blob
    if action == "delete":
        return current is None
    source = Path(payload["source"])
    return source.exists() and (current == blob if blob else current is None)


class UndoFile:
    name = "undo_file"
    effect = EffectKind.FILE
    idempotent = True

    def plan(self, step: StepSpec, ctx: PlanContext) -> list[PlannedWrite]:
        raise ActionError("undo_file is planned by `runs undo` or `inbox undo`, not by a step")

    def apply(self, payload: dict[str, Any], ctx: ApplyContext) -> ApplyResult:
        ctx.check()
        target = Path(payload["target"])
        current = file_sha256_or_none(target)
        if _done(payload, current):
            return ApplyResult(output="already undone")
        if current != payload["applied_sha256"]:
            raise ActionError(f"{target}: {CHANGED}; it was not undone")
        size = 0
        if payload["action"] == "move_back":
            size = self._copy(target, Path(payload["source"]), current)
        if payload.get("blob"):
            size += self._restore(payload["blob"], target, ctx)
        else:
            self._delete(target)
        return ApplyResult(bytes_written=size, output=f"undid the write to {target}")

    @staticmethod
    def _restore(sha: str, target: Path, ctx: ApplyContext) -> int:
        if ctx.undo_dir is None:
            raise ActionError("no undo store is configured for this engine")
        blob = blob_path(ctx.undo_dir, sha)
        if not blob.is_file():
            raise ActionError(f"the previous content of {target} is no longer kept ({sha})")
        return UndoFile._copy(blob, target, sha)

    @staticmethod
    def _copy(source: Path, target: Path, sha: str | None) -> int:
        try:
            return atomic_copy(source, target, sha)
        except OSError as exc:
            raise ActionError(f"could not restore {target}: {exc.strerror or exc}") from exc

    @staticmethod
    def _delete(target: Path) -> None:
        try:
            target.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise ActionError(f"could not remove {target}: {exc.strerror or exc}") from exc
