"""write_file, copy_file and move_file: idempotent, atomic, inside the output scope.

Payloads carry the resolved target and the sha256 of the content to be there, so an
apply that is repeated (a retry, a restart after a crash) finds the work done and does
nothing. Undo information:
  write_file, copy_file  {"path", "existed", "previous": text or None[, "note"]}
                         ({"created": path} for a copy that created its target)
  move_file              {"moved_from", "path", "existed", "previous"[, "note"]}
  a write that found the content already there: {"path", "unchanged": True}
and, for undo (engine/actions/undo_file.py): "action" (restore | delete | move_back),
"target", "blob" (the previous bytes' sha256 in the undo store, or None),
"applied_sha256" and "applied_size" (what the target held once applied).
Previews cannot go stale: the payload's "expect" holds the state of the target (and
of a copy's or a move's source) the preview was made against, {"exists": False} or
{"size", "sha256"}; apply compares it just before the rename and raises Stale when it
changed, and `replan` makes the write again with a fresh preview.
Secrets cannot be written into files: the preview, the payload and the undo
information all live in the database.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from pathlib import Path
from typing import Any

from sophmate_desktop.domain.enums import EffectKind
from sophmate_desktop.domain.workflow import StepSpec
from sophmate_desktop.engine.actions._common import field_error, literal_text, render_text
from sophmate_desktop.engine.actions.base import (
    ActionError,
    ApplyContext,
    ApplyResult,
    PlanContext,
    PlannedWrite,
    ScopeError,
    Stale,
)
from sophmate_desktop.engine.actions.paths import (
    atomic_copy,
    atomic_write,
    file_sha256_or_none,
    recheck_target,
    resolve_text_in_scope,
)
from sophmate_desktop.store.undo_blobs import put_file

UNDO_LIMIT = 1024 * 1024  # previous content kept for undo up to 1 MiB
_PREVIEW_LIMIT = 256 * 1024  # larger files are summarised, not diffed
_NO_SECRETS = "a file's content and path are stored in the run's writes"


def _target(step: StepSpec, ctx: PlanContext, variables: dict[str, Any]) -> Path:
    return Path(_target_state(step, ctx, variables)[0])


def _target_state(step: StepSpec, ctx: PlanContext, variables: dict[str, Any]) -> tuple[str, bool]:
    """The resolved target (as text) and whether it is certainly missing (one lstat
    for the common case of a new file: no other look at it is needed)."""
    if "to" not in step.params:
        raise field_error("to", "required field is missing")
    text = literal_text(render_text(step.params["to"], variables, "to"), "to", _NO_SECRETS)
    if "\n" in text or "\r" in text:
        raise field_error("to", f"the path {text!r} contains a line break")
    try:
        target, missing = resolve_text_in_scope(text, ctx.output_paths, ctx.resolved_folders)
    except ScopeError as exc:
        raise field_error("to", str(exc), ScopeError)
    if missing:
        return target, True
    try:
        os.stat(target)
    except FileNotFoundError:
        return target, True
    except OSError:
        pass
    if os.path.isdir(target):
        raise field_error("to", f"{target} is a folder; name a file")
    return target, False


def _scope(ctx: PlanContext) -> list[str]:
    return [str(p) for p in ctx.output_paths]


def _read_text(path: Path, limit: int) -> str | None:
    """The file's text if it is a UTF-8 file of at most `limit` bytes, else None."""
    try:
        if path.stat().st_size > limit:
            return None
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _size(path: Path) -> int:
    return path.stat().st_size


def _previous(path: Path, undo_dir: Path | None = None) -> dict[str, Any]:
    """Undo information: what `path` holds before it is replaced (its bytes kept in
    the undo store when there is one)."""
    if not path.exists():
        return {"path": str(path), "existed": False, "previous": None, "action": "delete"}
    text = _read_text(path, UNDO_LIMIT)
    undo: dict[str, Any] = {"path": str(path), "existed": True, "previous": text}
    undo.update(action="restore", blob=_keep(path, undo_dir))
    if text is None and undo["blob"] is None:
        try:
            size = _size(path)
        except FileNotFoundError:  # removed while it was read: not what was previewed
            raise Stale(f"the file {path} changed since this preview") from None
        why = "over 1 MiB" if size > UNDO_LIMIT else "not UTF-8 text"
        if undo_dir is not None:
            why = "over the undo store's size cap"
        undo["note"] = f"the previous content ({size} bytes) was not kept: {why}"
    return undo


def _keep(path: Path, undo_dir: Path | None) -> str | None:
    if undo_dir is None:
        return None
    try:
        return put_file(undo_dir, path)
    except OSError as exc:
        raise ActionError(f"could not keep {path} for undo: {exc.strerror or exc}") from exc


def _applied(undo: dict[str, Any], path: Path, sha: str, size: int) -> dict[str, Any]:
    """The undo information completed with what the target holds once applied."""
    return {**undo, "target": str(path), "applied_sha256": sha, "applied_size": size}


def file_state(path: Path) -> dict[str, Any]:
    """What a preview is made against: {"exists": False} or {"size", "sha256"}."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return {"exists": False}
    except OSError as exc:
        return {"exists": True, "error": exc.strerror or str(exc)}
    return {"size": size, "sha256": file_sha256_or_none(path)}


def _expect_check(payload: dict[str, Any], role: str, path: Path) -> None:
    """Raise Stale if the file `role` (target | source) is not as previewed. A payload
    planned before previews recorded their state has nothing to compare."""
    expected = payload.get("expect", {}).get(role)
    if expected is not None and file_state(path) != expected:
        raise Stale(f"the file {path} changed since this preview")


def _checker(payload: dict[str, Any], path: Path, source: Path | None = None):
    def check() -> None:
        _expect_check(payload, "target", path)
        if source is not None:
            _expect_check(payload, "source", source)

    return check


def _change_note(target: Path, sha: str) -> str:
    if not target.exists():
        return "new file"
    if file_sha256_or_none(target) == sha:
        return "unchanged: the target already has this content"
    return f"replaces the existing file ({_size(target)} bytes)"


class WriteFile:
    name = "write_file"
    effect = EffectKind.FILE
    idempotent = True
    payload_is_json = True  # text, numbers and dicts of them: no JSON check per write

    def plan(self, step: StepSpec, ctx: PlanContext) -> list[PlannedWrite]:
        variables = ctx.template_context()
        target, missing = _target_state(step, ctx, variables)
        if "content" not in step.params:
            raise field_error("content", "required field is missing")
        content = render_text(step.params["content"], variables, "content")
        content = literal_text(content, "content", _NO_SECRETS)
        return [self._planned(target, content, _scope(ctx), missing)]

    def replan(self, payload: dict[str, Any]) -> PlannedWrite:
        """The same write previewed again against the target as it is now."""
        path = recheck_target(payload["path"], payload.get("scope"))
        return self._planned(path, payload["content"], payload.get("scope"))

    def _planned(
        self, target: Path | str, content: str, scope: list[str] | None, missing: bool = False
    ) -> PlannedWrite:
        """`missing`: the target was just found missing (what the preview and the
        expected state of a new file say, without looking again)."""
        data = content.encode("utf-8")
        sha = hashlib.sha256(data).hexdigest()
        path = str(target)
        if missing:
            preview, state = f"new file: {path}\n{content}", {"exists": False}
        else:
            found = Path(target)
            preview, state = self._preview(found, content, sha), file_state(found)
        return PlannedWrite(
            kind=self.name,
            effect=self.effect,
            target=path,
            summary=f"write {path} ({len(data)} bytes)",
            preview=preview,
            payload={
                "path": path,
                "content": content,
                "sha256": sha,
                "scope": scope,
                "expect": {"target": state},
            },
        )

    @staticmethod
    def _preview(target: Path, content: str, sha: str) -> str:
        note = _change_note(target, sha)
        if not target.exists():
            return f"{note}: {target}\n{content}"
        if note.startswith("unchanged"):
            return f"{note}: {target}"
        current = _read_text(target, _PREVIEW_LIMIT)
        if current is None or len(content) > _PREVIEW_LIMIT:
            return f"{note}: {target} (too large or not text to show a diff)"
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            content.splitlines(keepends=True),
            fromfile=f"{target} (current)",
            tofile=f"{target} (new)",
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in diff)

    def apply(self, payload: dict[str, Any], ctx: ApplyContext) -> ApplyResult:
        ctx.check()
        path = recheck_target(payload["path"], payload.get("scope"))
        data = payload["content"].encode("utf-8")
        if hashlib.sha256(data).hexdigest() != payload["sha256"]:
            raise ActionError(f"the payload of the write to {path} does not match its sha256")
        if file_sha256_or_none(path) == payload["sha256"]:
            return ApplyResult(
                undo={"path": str(path), "unchanged": True}, output="already up to date"
            )
        if path.is_dir():
            raise ActionError(f"{path} is a folder")
        undo = _previous(path, ctx.undo_dir)
        try:
            atomic_write(path, data, _checker(payload, path), ctx.sync_dir)
        except OSError as exc:
            raise ActionError(f"could not write {path}: {exc.strerror or exc}") from exc
        undo = _applied(undo, path, payload["sha256"], len(data))
        return ApplyResult(undo=undo, bytes_written=len(data), output=f"wrote {path}")


def _source(ctx: PlanContext, action: str) -> tuple[Path, str, int]:
    f = ctx.file
    if f is None:
        raise ActionError(f"{action} needs a trigger file, and this run has none")
    try:
        if not f.path.is_file():
            raise ActionError(f"the trigger file {f.path} no longer exists")
        sha = f.sha256 or file_sha256_or_none(f.path)
        size = _size(f.path)
    except OSError as exc:
        raise ActionError(f"cannot read the trigger file {f.path}: {exc.strerror or exc}")
    if sha is None:
        raise ActionError(f"cannot read the trigger file {f.path}")
    return f.path, sha, size


class _Transfer:
    """copy_file and move_file share planning: the trigger file to `to`."""

    name = ""
    verb = ""
    effect = EffectKind.FILE
    idempotent = True
    payload_is_json = True  # text, numbers and dicts of them: no JSON check per write

    def plan(self, step: StepSpec, ctx: PlanContext) -> list[PlannedWrite]:
        source, sha, size = _source(ctx, self.name)
        target = _target(step, ctx, ctx.template_context())
        if Path(os.path.realpath(source)) == target:
            raise field_error("to", f"{target} is the trigger file itself")
        return [self._planned(source, target, sha, size, _scope(ctx))]

    def replan(self, payload: dict[str, Any]) -> PlannedWrite:
        """The same transfer previewed again against the source and target as they are."""
        path = recheck_target(payload["path"], payload.get("scope"))
        source = Path(payload["source"])
        state = file_state(source)
        if state.get("sha256") is None:
            raise ActionError(f"the source {source} no longer exists or cannot be read")
        return self._planned(source, path, state["sha256"], state["size"], payload.get("scope"))

    def _planned(
        self, source: Path, target: Path, sha: str, size: int, scope: list[str] | None
    ) -> PlannedWrite:
        preview = (
            f"{self.verb} {source}\n  -> {target}\n"
            f"{size} bytes, sha256 {sha}\n{_change_note(target, sha)}"
        )
        return PlannedWrite(
            kind=self.name,
            effect=self.effect,
            target=str(target),
            summary=f"{self.verb} {source.name} -> {target}",
            preview=preview,
            payload={
                "source": str(source),
                "path": str(target),
                "sha256": sha,
                "scope": scope,
                "expect": {
                    "target": file_state(target),
                    "source": {"size": size, "sha256": sha},
                },
            },
        )

    @staticmethod
    def _copy(
        payload: dict[str, Any], source: Path, path: Path, sha: str, ctx: ApplyContext
    ) -> int:
        if not source.is_file():
            raise ActionError(f"the source {source} no longer exists")
        try:
            return atomic_copy(source, path, sha, _checker(payload, path, source), ctx.sync_dir)
        except OSError as exc:
            raise ActionError(f"could not copy {source} to {path}: {exc.strerror or exc}")


class CopyFile(_Transfer):
    name = "copy_file"
    verb = "copy"

    def apply(self, payload: dict[str, Any], ctx: ApplyContext) -> ApplyResult:
        ctx.check()
        path = recheck_target(payload["path"], payload.get("scope"))
        source, sha = Path(payload["source"]), payload["sha256"]
        if file_sha256_or_none(path) == sha:
            return ApplyResult(
                undo={"path": str(path), "unchanged": True}, output="already up to date"
            )
        if path.is_dir():
            raise ActionError(f"{path} is a folder")
        previous = _previous(path, ctx.undo_dir)
        undo = previous if previous["existed"] else {"created": str(path), "action": "delete"}
        size = self._copy(payload, source, path, sha, ctx)
        undo = _applied(undo, path, sha, size)
        return ApplyResult(undo=undo, bytes_written=size, output=f"copied to {path}")


class MoveFile(_Transfer):
    name = "move_file"
    verb = "move"

    def apply(self, payload: dict[str, Any], ctx: ApplyContext) -> ApplyResult:
        ctx.check()
        path = recheck_target(payload["path"], payload.get("scope"))
        source, sha = Path(payload["source"]), payload["sha256"]
        there = file_sha256_or_none(path) == sha
        if there and not source.exists():
            return ApplyResult(
                undo={"moved_from": str(source), "path": str(path), "unchanged": True},
                output="already moved",
            )
        if path.is_dir():
            raise ActionError(f"{path} is a folder")
        size = 0
        undo: dict[str, Any] = {"moved_from": str(source), **_previous(path, ctx.undo_dir)}
        if there:
            # A copy finished before the process stopped; only the unlink is left.
            undo = {
                "moved_from": str(source),
                "path": str(path),
                "note": "the target already had the source's content",
            }
        else:
            size = self._copy(payload, source, path, sha, ctx)
        undo = _applied({**undo, "action": "move_back"}, path, sha, size or _size(path))
        try:
            source.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise ActionError(
                f"copied to {path} but could not remove {source}: {exc.strerror or exc}"
            )
        return ApplyResult(undo=undo, bytes_written=size, output=f"moved to {path}")
