"""What undoing one applied file write takes: its undo_file payload and the reverse
diff a person approves, or why it cannot be undone (console/undo.py plans the run)."""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sophmate_desktop.store.undo_blobs import read_blob

UNDOABLE_KINDS = ("write_file", "copy_file", "move_file")
CHANGED = "the file changed since it was applied"
PREVIEW_LIMIT = 256 * 1024


class NotUndoable(Exception):
    """This write cannot be undone by SophMate (an e-mail, a request, a command...)."""


class TargetChanged(Exception):
    """The target no longer holds what the write left: undoing it would lose work."""


@dataclass(frozen=True)
class UndoStep:
    write_id: int
    target: str
    summary: str
    preview: str
    payload: dict[str, Any]


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def _sha(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _text(data: bytes | None) -> str | None:
    if data is None or len(data) > PREVIEW_LIMIT:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def reverse_diff(target: str, current: bytes | None, previous: bytes | None) -> str:
    """The diff from what the file holds now to what the undo puts back."""
    now, then = _text(current), _text(previous)
    if now is None or then is None:
        size = "nothing" if previous is None else f"{len(previous)} bytes"
        return f"{target}: too large or not text to show a diff (puts back {size})\n"
    diff = difflib.unified_diff(
        now.splitlines(keepends=True),
        then.splitlines(keepends=True),
        fromfile=f"{target} (now)",
        tofile=f"{target} (after the undo)",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in diff)


def _undo_info(w: Any) -> dict[str, Any]:
    if w.kind not in UNDOABLE_KINDS:
        raise NotUndoable(f"write {w.id} ({w.kind}) cannot be undone by SophMate")
    undo = w.undo or {}
    if undo.get("unchanged"):
        raise NotUndoable(f"write {w.id} changed nothing: the content was already there")
    if "action" not in undo or "applied_sha256" not in undo:
        raise NotUndoable(f"write {w.id} was applied before undo information was kept")
    if undo["action"] == "restore" and not undo.get("blob"):
        why = undo.get("note") or "it was not kept"
        raise NotUndoable(f"write {w.id}: the previous content of {w.target} is lost ({why})")
    return undo


def plan_step(w: Any, root: Path) -> UndoStep:
    """The undo of applied write `w`; NotUndoable or TargetChanged when there is none."""
    undo = _undo_info(w)
    target = undo["target"]
    current = _read(Path(target))
    if _sha(current) != undo["applied_sha256"]:
        raise TargetChanged(f"write {w.id}: {target}: {CHANGED}")
    blob = undo.get("blob")
    previous = read_blob(root, blob) if blob else None
    if blob and previous is None:
        raise NotUndoable(f"write {w.id}: the previous content of {target} is no longer kept")
    payload = {
        "action": undo["action"],
        "target": target,
        "blob": blob,
        "applied_sha256": undo["applied_sha256"],
        "undoes": w.id,
    }
    head = _head(w, undo, payload, previous)
    preview = head + reverse_diff(target, current, previous)
    return UndoStep(w.id, target, head.splitlines()[0], preview, payload)


def _head(w: Any, undo: dict[str, Any], payload: dict[str, Any], previous: bytes | None) -> str:
    target = payload["target"]
    if undo["action"] == "move_back":
        source = undo["moved_from"]
        if Path(source).exists():
            raise TargetChanged(f"write {w.id}: {source} exists again; it was not moved back")
        payload["source"] = source
        rest = "restores its previous content" if previous is not None else "then removes it"
        return f"undo write {w.id}: move {target} back to {source} ({rest})\n"
    if undo["action"] == "delete":
        return f"undo write {w.id}: delete {target} (the write created it)\n"
    return f"undo write {w.id}: restore {target} ({len(previous or b'')} bytes)\n"
