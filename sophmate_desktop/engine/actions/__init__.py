"""Actions: plan a step into writes, apply one write (DESIGN section 6).

`plan_step` finds the step's action (built-in or plug-in), runs it once or, with
`for_each`, once per input record (`row` for CSV rows, `item` for JSON list items in
the template context; one write per record). Every error it raises starts with the
step path, e.g. `steps[1].to: 'row' is undefined`; an action (or a plug-in) names
the field with `field_error("with.to", "...")`. `apply_write` runs one write's apply
and turns a plug-in's unexpected exception into an ActionError.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from sophmate_desktop.domain.errors import SophmateError
from sophmate_desktop.domain.workflow import StepSpec
from sophmate_desktop.engine.actions._common import field_error
from sophmate_desktop.engine.actions.base import (
    Action,
    ActionError,
    ApplyContext,
    ApplyResult,
    Cancelled,
    PlanContext,
    PlannedWrite,
    ScopeError,
)
from sophmate_desktop.engine.actions.registry import (
    get_action,
    plugin_errors,
    plugin_versions,
    refresh,
)

__all__ = [
    "Action",
    "ActionError",
    "ApplyContext",
    "ApplyResult",
    "Cancelled",
    "PlanContext",
    "PlannedWrite",
    "ScopeError",
    "apply_write",
    "field_error",
    "get_action",
    "plan_step",
    "plugin_errors",
    "plugin_versions",
    "refresh",
]

RECORD_NAMES = {"rows": "row", "items": "item"}


@dataclass
class RecordContext(PlanContext):
    """A PlanContext whose templates also see the current record (`row` or `item`)."""

    record: Mapping[str, Any] = field(default_factory=dict)

    def template_context(self, **extra: Any) -> dict[str, Any]:
        return super().template_context(**{**self.record, **extra})


def _with_record(ctx: PlanContext, name: str, value: Any) -> RecordContext:
    base = {f.name: getattr(ctx, f.name) for f in fields(PlanContext)}
    return RecordContext(**base, record={name: value})


def _located(exc: BaseException, path: str, suffix: str = "") -> ActionError:
    """`exc` as an ActionError of the same kind whose message starts with `path`."""
    message = str(exc)
    if message.startswith("steps["):
        located = message
    elif getattr(exc, "field", None):
        located = f"{path}.{message}"
    else:
        located = f"{path}: {message}"
    located += suffix
    cls = type(exc) if isinstance(exc, ActionError) else ActionError
    try:
        err = cls(located)
    except TypeError:  # a plug-in's subclass with its own constructor
        err = ActionError(located)
    err.__cause__ = exc
    return err


def _plan_once(
    action: Action, step: StepSpec, ctx: PlanContext, path: str, suffix: str
) -> list[PlannedWrite]:
    try:
        writes = action.plan(step, ctx)
    except SophmateError as exc:
        raise _located(exc, path, suffix)
    except Exception as exc:  # a plug-in's bug: still an error the run can report
        raise _located(ActionError(f"{type(exc).__name__}: {exc}"), path, suffix)
    if not isinstance(writes, list) or not all(isinstance(w, PlannedWrite) for w in writes):
        raise ActionError(f"{path}: action {step.action!r} did not return a list of writes")
    checked = []
    for w in writes:
        try:
            json.dumps(w.payload)
        except (TypeError, ValueError) as exc:
            raise ActionError(f"{path}: the payload of a write is not JSON: {exc}")
        # The approval gate reads customer_facing; a step's flag always counts.
        checked.append(
            replace(w, kind=step.action, customer_facing=w.customer_facing or step.customer_facing)
        )
    return checked


def plan_step(step: StepSpec, ctx: PlanContext, index: int) -> list[PlannedWrite]:
    """The writes step number `index` (from 0) wants to make; read-only."""
    path = f"steps[{index}]"
    try:
        action = get_action(step.action)
    except ActionError as exc:
        raise ActionError(f"{path}.action: {exc}")
    if step.for_each is None:
        return _plan_once(action, step, ctx, path, "")
    name = RECORD_NAMES.get(step.for_each)
    if name is None:
        raise ActionError(f"{path}.for_each: expected rows or items, got {step.for_each!r}")
    records = ctx.input
    if step.for_each == "rows":
        if not isinstance(records, list) or not all(isinstance(r, Mapping) for r in records):
            raise ActionError(
                f"{path}.for_each: the input is not a list of rows (read the input as csv)"
            )
    elif not isinstance(records, list):
        raise ActionError(
            f"{path}.for_each: the input is not a list of items "
            "(read the input as json; its top level must be a list)"
        )
    writes: list[PlannedWrite] = []
    for number, record in enumerate(records, start=1):
        sub = _with_record(ctx, name, record)
        suffix = f" ({name} {number})"
        writes += [
            replace(w, records=1, record_number=number)
            for w in _plan_once(action, step, sub, path, suffix)
        ]
    return writes


def affected_records(planned: list[PlannedWrite]) -> int:
    """The input records a run's writes act on: with `for_each`, each record once
    (however many steps write for it; a copy of the whole file adds none); without
    it, what each write stands for."""
    numbers = {w.record_number for w in planned if w.record_number is not None}
    if numbers:
        return len(numbers)
    return sum(w.records for w in planned)


def apply_write(kind: str, payload: dict[str, Any], ctx: ApplyContext) -> ApplyResult:
    """Apply one write of action `kind`; any failure is an ActionError (or Cancelled)."""
    action = get_action(kind)
    try:
        result = action.apply(payload, ctx)
    except ActionError:
        raise
    except SophmateError as exc:
        raise ActionError(f"{kind}: {exc}") from exc
    except Exception as exc:
        raise ActionError(f"{kind}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(result, ApplyResult):
        raise ActionError(f"{kind}: apply did not return an ApplyResult")
    return result
