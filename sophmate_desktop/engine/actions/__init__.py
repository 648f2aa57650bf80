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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from sophmate_desktop.domain.errors import SophmateError
from sophmate_desktop.domain.workflow import StepSpec, step_reads_answers
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
    BUILTINS,
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
    "plan_records",
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
    record_number: int | None = None
    # The step's template context without the record, built once for all its records
    # (the same dict every row would build; its values are shared by the rows).
    base: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    def template_context(self, **extra: Any) -> dict[str, Any]:
        own = self.record_answers.get(self.record_number) if self.record_answers else None
        if own:  # this record's answers of for_each prompts beside the run's
            extra = {"steps": {**self.answers, **own}, **extra}
        if self.base is not None:
            return {**self.base, **self.record, **extra}
        return super().template_context(**{**self.record, **extra})


def _record_contexts(ctx: PlanContext, name: str) -> Callable[[Any], RecordContext]:
    """A maker of `ctx` with one record: the fields are copied and the template
    context is built once, not once per record."""
    values = {f.name: getattr(ctx, f.name) for f in fields(PlanContext)}
    values["base"] = PlanContext.template_context(ctx)

    def with_record(value: Any, number: int | None = None) -> RecordContext:
        sub = RecordContext.__new__(RecordContext)
        sub.__dict__.update(values)
        sub.record = {name: value}
        sub.record_number = number
        return sub

    return with_record


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
    action: Action,
    step: StepSpec,
    ctx: PlanContext,
    path: str,
    suffix: str,
    drafted: bool = False,
) -> list[PlannedWrite]:
    try:
        writes = action.plan(step, ctx)
    except SophmateError as exc:
        raise _located(exc, path, suffix)
    except Exception as exc:  # a plug-in's bug: still an error the run can report
        raise _located(ActionError(f"{type(exc).__name__}: {exc}"), path, suffix)
    if not isinstance(writes, list) or not all(isinstance(w, PlannedWrite) for w in writes):
        raise ActionError(f"{path}: action {step.action!r} did not return a list of writes")
    # A draft of a placeholder answer (no provider was asked) is shown, never sent.
    unsendable = drafted and _placeholder_answers(ctx)
    # A built-in action that builds its payloads of text, numbers and lists only
    # needs no proof per write (a plug-in's payload is checked).
    trusted = BUILTINS.get(step.action) is action and getattr(action, "payload_is_json", False)
    checked = []
    for w in writes:
        if not trusted:
            try:
                json.dumps(w.payload)
            except (TypeError, ValueError) as exc:
                raise ActionError(f"{path}: the payload of a write is not JSON: {exc}")
        # The approval gate reads customer_facing and ai_drafted; a step's flag counts.
        if (
            w.kind != step.action
            or (step.customer_facing and not w.customer_facing)
            or (drafted and not w.ai_drafted)
            or (unsendable and w.sendable)
        ):
            w = replace(
                w,
                kind=step.action,
                customer_facing=w.customer_facing or step.customer_facing,
                ai_drafted=w.ai_drafted or drafted,
                sendable=w.sendable and not unsendable,
            )
        checked.append(w)
    return checked


def _step_action(step: StepSpec, path: str) -> Action:
    try:
        return get_action(step.action)
    except ActionError as exc:
        raise ActionError(f"{path}.action: {exc}")


def plan_step(step: StepSpec, ctx: PlanContext, index: int) -> list[PlannedWrite]:
    """The writes step number `index` (from 0) wants to make; read-only."""
    path = f"steps[{index}]"
    if step.for_each is None:
        return _plan_once(_step_action(step, path), step, ctx, path, "", _drafted(step))
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
    return plan_records(step, ctx, index, records)


def plan_records(
    step: StepSpec, ctx: PlanContext, index: int, records: Iterable[Any], first: int = 1
) -> list[PlannedWrite]:
    """The writes of `for_each` step number `index` for `records`, the first of which
    is record number `first` of the input (a big input is planned a batch at a time)."""
    path = f"steps[{index}]"
    action = _step_action(step, path)
    name = RECORD_NAMES[step.for_each or "rows"]
    with_record = _record_contexts(ctx, name)
    if BUILTINS.get(step.action) is action and hasattr(action, "plan_many"):
        return _plan_many(action, step, with_record, records, first, path, name)
    drafted = _drafted(step)
    writes: list[PlannedWrite] = []
    for number, record in enumerate(records, start=first):
        sub = with_record(record, number)
        for w in _plan_once(action, step, sub, path, f" ({name} {number})", drafted):
            writes.append(_of_record(w, number))
    return writes


def _plan_many(
    action: Any,
    step: StepSpec,
    with_record: Callable[..., RecordContext],
    records: Iterable[Any],
    first: int,
    path: str,
    name: str,
) -> list[PlannedWrite]:
    """A built-in action that plans a step's records together (prompt: its calls go
    out side by side); an error names the record it is about."""
    subs = [with_record(r, n) for n, r in enumerate(records, start=first)]
    try:
        planned = action.plan_many(step, subs)
    except SophmateError as exc:
        number = getattr(exc, "record_number", None)
        raise _located(exc, path, f" ({name} {number})" if number is not None else "")
    pairs = zip(subs, planned, strict=True)
    return [_of_record(w, sub.record_number or first) for sub, ws in pairs for w in ws]


def _placeholder_answers(ctx: PlanContext) -> bool:
    """Whether an answer the templates of `ctx` see is a placeholder."""
    number = getattr(ctx, "record_number", None)
    seen = list(ctx.answers.values())
    if number is not None and ctx.record_answers:
        seen += (ctx.record_answers.get(number) or {}).values()
    return any(entry.get("placeholder") for entry in seen)


def _drafted(step: StepSpec) -> bool:
    """A step that reads a prompt's answer (`steps`) makes AI-drafted writes."""
    return step.action != "prompt" and step_reads_answers(step)


def _of_record(w: PlannedWrite, number: int) -> PlannedWrite:
    """`replace(w, records=1, record_number=number)`, without its per-call field
    inspection and checks (a copy of a frozen dataclass of plain fields)."""
    copy = object.__new__(PlannedWrite)
    copy.__dict__.update(w.__dict__, records=1, record_number=number)
    return copy


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
