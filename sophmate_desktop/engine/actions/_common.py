"""Helpers the built-in actions share: rendering a field, connections, secret lookups.

Errors raised while planning name the field (`to`, `argv[2]`, `json.items[0].sku`);
`plan_step` puts the step path (`steps[1].`) in front of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sophmate_desktop.domain.errors import SophmateError
from sophmate_desktop.domain.templates import (
    TemplateError,
    TemplateRenderError,
    render,
    secret_names,
    substitute_secrets,
)
from sophmate_desktop.domain.workflow import StepSpec
from sophmate_desktop.engine.actions.base import ActionError, ApplyContext, PlanContext


def field_error(field: str, message: str, cls: type[ActionError] = ActionError) -> ActionError:
    """An error about one field of a step; `plan_step` prefixes the step path."""
    err = cls(f"{field}: {message}")
    err.field = field  # type: ignore[attr-defined]
    return err


def render_text(value: Any, variables: Mapping[str, Any], field: str) -> str:
    """One template field rendered; ActionError naming the field on failure."""
    if not isinstance(value, str):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise field_error(field, f"expected text, got {type(value).__name__}")
        value = str(value)
    try:
        return render(value, variables)
    except (TemplateError, TemplateRenderError) as exc:
        raise field_error(field, str(exc))


def render_tree(value: Any, variables: Mapping[str, Any], field: str) -> Any:
    """A JSON-like value whose text leaves are templates, rendered leaf by leaf."""
    if isinstance(value, str):
        return render_text(value, variables, field)
    if isinstance(value, list):
        return [render_tree(v, variables, f"{field}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: render_tree(v, variables, f"{field}.{k}") for k, v in value.items()}
    return value


def map_tree(value: Any, fn: Callable[[str], str]) -> Any:
    """`value` with `fn` applied to every text leaf."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [map_tree(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: map_tree(v, fn) for k, v in value.items()}
    return value


def _no_lookup(name: str) -> str:  # pragma: no cover - callers check for tokens first
    raise ActionError(f"secret {name!r} may not be used here")


def literal_text(text: str, field: str, why: str) -> str:
    """Rendered text that may not hold secret references, with escapes undone."""
    if "${secret" not in text:  # neither a reference nor an escape: nothing to undo
        return text
    names = secret_names(text)
    if names:
        listed = ", ".join(sorted(names))
        raise field_error(field, f"secrets ({listed}) cannot be used here: {why}")
    return substitute_secrets(text, _no_lookup)


class SecretLookup:
    """`ctx.secret` that remembers the values it handed out, to mask them in output."""

    def __init__(self, ctx: ApplyContext) -> None:
        self._ctx = ctx
        self.values: list[str] = []

    def __call__(self, name: str) -> str:
        try:
            value = self._ctx.secret(name)
        except ActionError:
            raise
        except SophmateError as exc:
            raise ActionError(str(exc)) from exc
        self.values.append(value)
        return value

    def substitute(self, text: str) -> str:
        return substitute_secrets(text, self)


def connection_settings(
    step: StepSpec, ctx: PlanContext, *, required: bool
) -> tuple[str | None, Mapping[str, Any], str | None]:
    """(name, settings for this mode, why the write may not be sent or None).

    A connection without settings for the run's mode keeps its writes planned in dry
    runs and staging (previewed, never sent); in production that is an error.
    """
    name = step.connection
    if not name:
        if required:
            raise field_error("connection", f"{step.action} needs a connection")
        return None, {}, None
    settings = ctx.connections.get(name) or {}
    if settings:
        return name, settings, None
    why = f"connection {name!r} has no {ctx.mode} settings"
    if ctx.mode == "production":
        raise field_error("connection", why)
    return name, {}, why


def settings_for(name: str, ctx: ApplyContext) -> Mapping[str, Any]:
    settings = ctx.connections.get(name) or {}
    if not settings:
        raise ActionError(f"connection {name!r} has no settings for this mode")
    return settings
