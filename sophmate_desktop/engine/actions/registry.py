"""Built-in actions plus plug-ins from the entry-point group `sophmate_desktop.actions`.

A plug-in distribution declares, for example,
    [project.entry-points."sophmate_desktop.actions"]
    append_line = "my_package.actions:AppendLine"
The object is a class (instantiated once) or an instance with `name` (equal to the
entry-point name), `effect` (an EffectKind value), `idempotent`, `plan` and `apply`.
A plug-in may not replace a built-in action. `plugin_versions()` reports each
plug-in's distribution version, so the runner can pause a workflow whose plug-in
changed since its last run.
"""

from __future__ import annotations

import threading
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from sophmate_desktop.domain.enums import EffectKind
from sophmate_desktop.engine.actions.base import Action, ActionError
from sophmate_desktop.engine.actions.command import RunCommand
from sophmate_desktop.engine.actions.email import SendEmail
from sophmate_desktop.engine.actions.files import CopyFile, MoveFile, WriteFile
from sophmate_desktop.engine.actions.http import HttpRequest
from sophmate_desktop.engine.actions.prompt import Prompt
from sophmate_desktop.engine.actions.undo_file import UndoFile

GROUP = "sophmate_desktop.actions"

BUILTINS: dict[str, Action] = {
    a.name: a
    for a in (
        WriteFile(),
        CopyFile(),
        MoveFile(),
        HttpRequest(),
        SendEmail(),
        RunCommand(),
        Prompt(),
        UndoFile(),
    )
}

_lock = threading.Lock()
_scanned = False
_plugins: dict[str, Action] = {}
_versions: dict[str, str] = {}
_errors: dict[str, str] = {}  # action name -> why its plug-in cannot be used


def _version(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return str(dist.version) if dist is not None and dist.version else "unknown"


def _origin(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    name = dist.metadata["Name"] if dist is not None else ep.value
    return f"{name} {_version(ep)}"


def _load(ep: EntryPoint) -> Action:
    obj: Any = ep.load()
    if isinstance(obj, type):
        obj = obj()
    name = getattr(obj, "name", None)
    if name != ep.name:
        raise ActionError(f"its action is named {name!r}, not {ep.name!r}")
    try:
        EffectKind(getattr(obj, "effect", None))
    except ValueError:
        effects = ", ".join(k.value for k in EffectKind)
        raise ActionError(f"its effect {getattr(obj, 'effect', None)!r} is not one of {effects}")
    if not isinstance(getattr(obj, "idempotent", None), bool):
        raise ActionError("it does not say whether it is idempotent (True/False)")
    for method in ("plan", "apply"):
        if not callable(getattr(obj, method, None)):
            raise ActionError(f"it has no {method}() method")
    return obj


def refresh() -> None:
    """Rescan the installed plug-ins (after installing or updating one)."""
    global _scanned
    plugins: dict[str, Action] = {}
    versions: dict[str, str] = {}
    errors: dict[str, str] = {}
    found: dict[str, list[EntryPoint]] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, []).append(ep)
    for name, eps in found.items():
        distinct = {(ep.value, _origin(ep)) for ep in eps}
        ep = eps[0]
        versions[name] = _version(ep)
        if name in BUILTINS:
            errors[name] = f"the plug-in {_origin(ep)} may not replace the built-in {name!r}"
            continue
        if len(distinct) > 1:
            sources = ", ".join(sorted(origin for _, origin in distinct))
            errors[name] = f"several plug-ins provide {name!r} ({sources}); uninstall all but one"
            continue
        try:
            plugins[name] = _load(ep)
        except Exception as exc:
            errors[name] = f"the plug-in {_origin(ep)} cannot be used: {exc}"
    with _lock:
        _plugins.clear()
        _plugins.update(plugins)
        _versions.clear()
        _versions.update(versions)
        _errors.clear()
        _errors.update(errors)
        _scanned = True


def _ensure_scanned() -> None:
    if not _scanned:
        refresh()


def get_action(name: str) -> Action:
    """The action called `name`; ActionError when none is installed or it is broken."""
    if name in BUILTINS:
        return BUILTINS[name]
    _ensure_scanned()
    with _lock:
        if name in _plugins:
            return _plugins[name]
        if name in _errors:
            raise ActionError(f"action {name!r}: {_errors[name]}")
    raise ActionError(
        f"unknown action {name!r} (no built-in action or installed plug-in has that name)"
    )


def plugin_versions() -> dict[str, str]:
    """Installed plug-in action name -> its distribution's version."""
    _ensure_scanned()
    with _lock:
        return dict(_versions)


def plugin_errors() -> dict[str, str]:
    """Plug-in action name -> why it cannot be used (for diagnostics)."""
    _ensure_scanned()
    with _lock:
        return dict(_errors)


def action_names() -> list[str]:
    """Every usable action: the built-ins first, then the plug-ins."""
    _ensure_scanned()
    with _lock:
        return list(BUILTINS) + sorted(_plugins)
