"""The workflow-file schema: sections, steps and the whole document.

`validate` checks a plain document against the schema that `workflow_file`
documents and builds the `WorkflowDefinition`, or raises `WorkflowFileError` with
every problem found.
"""

from __future__ import annotations

import codecs
import copy
import re
from dataclasses import fields
from typing import Any

from sophmate_desktop.domain.enums import (
    BUILTIN_ACTION_EFFECTS,
    ApprovalMode,
    InputRead,
    TriggerEvent,
)
from sophmate_desktop.domain.schedule import CATCH_UP, cron_problem, zone_problem
from sophmate_desktop.domain.workflow import (
    MAX_WRITES_DEFAULT,
    MAX_WRITES_LIMIT,
    ApprovalSpec,
    GraduationSpec,
    InputSpec,
    NotifySpec,
    OutputSpec,
    PauseSpec,
    RetrySpec,
    StepSpec,
    TriggerSpec,
    WorkflowDefinition,
    step_reads_answers,
)
from sophmate_desktop.domain.workflow_actions import (
    ACTION_KEYS,
    BUILTIN_CHECKS,
    builtin_keys,
    check_url,
    custom_action,
    has_value,
)
from sophmate_desktop.domain.workflow_fields import (
    BAD,
    DOCUMENT,
    ENGINE_NAME,
    SLUG,
    Ctx,
    bool_field,
    check_keys,
    choice_field,
    describe,
    index_path,
    int_field,
    join_path,
    number_field,
    section,
    short,
    text_field,
    text_list_field,
)
from sophmate_desktop.domain.workflow_scope import (
    check_notify_address,
)

TOP_LEVEL_KEYS = tuple(f.name for f in fields(WorkflowDefinition))
PARAM_DEFAULTS: dict[str, dict[str, Any]] = {
    "http_request": {"method": "POST", "timeout_s": 30},
    "run_command": {"timeout_s": 60},
    "prompt": {"max_tokens": 1024},
}
FOR_EACH = ("rows", "items")
assert set(ACTION_KEYS) == set(BUILTIN_ACTION_EFFECTS)


# --- sections -------------------------------------------------------------------------


def _trigger(ctx: Ctx, doc: dict) -> TriggerSpec | None:
    m = section(ctx, doc, "trigger", TriggerSpec)
    if m is None:
        return None
    p = "trigger"
    events = tuple(e.value for e in TriggerEvent)
    spec = TriggerSpec(
        folder=text_field(ctx, m, p, "folder", what="folder path"),
        patterns=text_list_field(ctx, m, p, "patterns", ("*",), min_items=1),
        ignore=text_list_field(ctx, m, p, "ignore", ()),
        events=text_list_field(
            ctx, m, p, "events", ("created", "moved"), min_items=1, choices=events
        ),
        settle_ms=int_field(ctx, m, p, "settle_ms", 0, 3_600_000, 500),
        recursive=bool_field(ctx, m, p, "recursive", False),
        polling=bool_field(ctx, m, p, "polling", False),
        interval_s=int_field(ctx, m, p, "interval_s", 1, 31_536_000, None),
        cron=text_field(ctx, m, p, "cron", what="cron expression"),
        timezone=text_field(ctx, m, p, "timezone", what="time zone name"),
        catch_up=choice_field(ctx, m, p, "catch_up", CATCH_UP, None),
        manual=bool_field(ctx, m, p, "manual", False),
        settle=choice_field(ctx, m, p, "settle", ("timer", "closed"), None),
        safety_scan_s=int_field(ctx, m, p, "safety_scan_s", 0, 86_400, None),
        follow_links_outside=bool_field(ctx, m, p, "follow_links_outside", False) or None,
    )
    if spec.settle == "closed" and spec.polling:
        ctx.error(
            f"{p}.settle",
            "closed needs the native watcher: a polling watcher cannot see a writer "
            "close a file (use settle_ms, or polling: false)",
        )
    _check_schedule(ctx, spec)
    given = {k for k in ("folder", "interval_s", "cron") if m.get(k) is not None}
    if not given and m.get("manual") is not True:
        ctx.error(p, "needs a folder, an interval_s, a cron or manual: true")
    return spec


def _check_schedule(ctx: Ctx, spec: TriggerSpec) -> None:
    if spec.cron is not None:
        problem = cron_problem(spec.cron)
        if problem:
            ctx.error("trigger.cron", problem)
        if spec.interval_s is not None:
            ctx.error("trigger", "has both cron and interval_s: use one schedule")
    if spec.timezone is not None:
        problem = zone_problem(spec.timezone)
        if problem:
            ctx.error("trigger.timezone", problem)
        elif spec.cron is None:
            ctx.error("trigger.timezone", "applies to a cron schedule only")
    if spec.catch_up is not None and spec.cron is None and spec.interval_s is None:
        ctx.error("trigger.catch_up", "applies to a schedule (cron or interval_s) only")


def _input(ctx: Ctx, doc: dict) -> InputSpec | None:
    m = section(ctx, doc, "input", InputSpec)
    if m is None:
        return None
    encoding = text_field(ctx, m, "input", "encoding", default="utf-8", what="encoding name")
    try:
        known = codecs.lookup(encoding)._is_text_encoding
    except LookupError:
        known = False
    if not known:
        ctx.error("input.encoding", f"unknown text encoding {short(encoding)}")
    return InputSpec(
        read=choice_field(ctx, m, "input", "read", tuple(r.value for r in InputRead), "text"),
        max_bytes=int_field(ctx, m, "input", "max_bytes", 1, 2**31, 10 * 1024 * 1024),
        encoding=encoding,
    )


def _output(ctx: Ctx, doc: dict) -> OutputSpec | None:
    m = section(ctx, doc, "output", OutputSpec)
    if m is None:
        return None
    return OutputSpec(
        paths=text_list_field(ctx, m, "output", "paths", (), required=True, min_items=1),
        staging_paths=text_list_field(ctx, m, "output", "staging_paths", ()),
    )


def _approval(ctx: Ctx, doc: dict) -> ApprovalSpec | None:
    m = section(ctx, doc, "approval", ApprovalSpec)
    if m is None:
        return None
    modes = tuple(a.value for a in ApprovalMode)
    return ApprovalSpec(
        mode=choice_field(ctx, m, "approval", "mode", modes, "always"),
        reviewed_runs=int_field(ctx, m, "approval", "reviewed_runs", 1, 10_000, 10),
        customer_facing_override=bool_field(ctx, m, "approval", "customer_facing_override", False),
        approvers=int_field(ctx, m, "approval", "approvers", 1, 10, 1),
    )


def _graduation(ctx: Ctx, doc: dict) -> GraduationSpec:
    m = section(ctx, doc, "graduation", GraduationSpec)
    if m is None:
        return GraduationSpec()
    return GraduationSpec(staging_runs=int_field(ctx, m, "graduation", "staging_runs", 1, 1000, 5))


def _retry(ctx: Ctx, doc: dict) -> RetrySpec | None:
    m = section(ctx, doc, "retry", RetrySpec)
    if m is None:
        return None
    return RetrySpec(
        limit=int_field(ctx, m, "retry", "limit", 0, 20, 0),
        backoff_s=float(number_field(ctx, m, "retry", "backoff_s", 0, 86_400, 30.0, above=False)),
    )


_APPRISE_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+")


def _notify_target(ctx: Ctx, path: str, target: str) -> None:
    kind, sep, rest = target.partition(":")
    if target == "tray":
        return
    if sep and kind == "email":
        check_notify_address(ctx, path, rest)
        return
    if sep and kind == "webhook":
        check_url(ctx, path, rest)
        return
    if _APPRISE_URL.fullmatch(target.strip()):
        return  # an apprise URL (ntfy://, slack://, json://...): checked when sent
    ctx.error(
        path, f"expected tray, email:ADDRESS, webhook:URL or an apprise URL, got {short(target)}"
    )


def _notify(ctx: Ctx, doc: dict) -> NotifySpec | None:
    m = section(ctx, doc, "notify", NotifySpec)
    if m is None:
        return None
    targets = text_list_field(ctx, m, "notify", "on_failure", (), required=True, min_items=1)
    raw = m.get("on_failure")
    for i, target in enumerate(raw if isinstance(raw, list) else []):
        if isinstance(target, str) and target.strip():
            _notify_target(ctx, index_path("notify.on_failure", i), target)
    return NotifySpec(on_failure=targets)


def _pause(ctx: Ctx, doc: dict) -> PauseSpec | None:
    m = section(ctx, doc, "pause", PauseSpec)
    if m is None:
        return None
    return PauseSpec(
        consecutive_failures=int_field(ctx, m, "pause", "consecutive_failures", 1, 100, 3),
        on_provider_change=bool_field(ctx, m, "pause", "on_provider_change", True),
        on_plugin_update=bool_field(ctx, m, "pause", "on_plugin_update", True),
    )


# --- steps ----------------------------------------------------------------------------


def _step(ctx: Ctx, item: Any, p: str, reads: str | None) -> StepSpec | None:
    if item is BAD:
        return None
    if not isinstance(item, dict):
        ctx.error(p, f"expected a step (a mapping with an action), got {describe(item)}")
        return None
    before = len(ctx.errors)
    action = text_field(ctx, item, p, "action", required=True, what="action name")
    label = text_field(ctx, item, p, "name", what="step name")
    connection = text_field(ctx, item, p, "connection", pattern=SLUG, what="connection name")
    for_each = choice_field(ctx, item, p, "for_each", FOR_EACH, None)
    customer_facing = bool_field(ctx, item, p, "customer_facing", False)
    if for_each is not None and reads is None:
        ctx.error(join_path(p, "for_each"), "needs an input section that reads csv or json")
    elif for_each is not None and reads not in ("csv", "json", "?"):
        ctx.error(join_path(p, "for_each"), f"needs input.read csv or json, not {reads!r}")
    effect = None
    if action in ACTION_KEYS:
        builtin_keys(ctx, item, p, action)
        BUILTIN_CHECKS[action](ctx, item, p)
    elif action is not None:
        effect = custom_action(ctx, item, p, action)
    if action is None or len(ctx.errors) > before:
        return None
    if action in ACTION_KEYS:
        defaults = PARAM_DEFAULTS.get(action, {})
        params = {
            k: copy.deepcopy(item[k]) if has_value(item, k) else defaults[k]
            for k in ACTION_KEYS[action]
            if has_value(item, k) or k in defaults
        }
    else:
        params = copy.deepcopy(item.get("with") or {})
    return StepSpec(
        action=action,
        params=params,
        connection=connection,
        for_each=for_each,
        customer_facing=customer_facing,
        effect=effect,
        label=label,
    )


def _steps(ctx: Ctx, doc: dict, reads: str | None) -> tuple[StepSpec, ...]:
    value = doc.get("steps")
    if value is BAD:
        return ()
    if value is None:
        ctx.error("steps", "required field is missing: list the actions to perform")
        return ()
    if not isinstance(value, list):
        ctx.error("steps", f"expected a list of steps, got {describe(value)}")
        return ()
    if not value:
        ctx.error("steps", "must list at least one step")
    steps = [_step(ctx, item, index_path("steps", i), reads) for i, item in enumerate(value)]
    _check_answer_names(ctx, steps)
    return tuple(s for s in steps if s is not None)


def _check_answer_names(ctx: Ctx, steps: list[StepSpec | None]) -> None:
    """Each prompt's `as` names one answer; a step reads `steps` only after a prompt."""
    seen: dict[str, int] = {}
    for i, step in enumerate(steps):
        if step is None:  # its errors are reported; what follows it is not judged
            return
        name = step.params.get("as") if step.action == "prompt" else None
        if name is not None and name in seen:
            ctx.error(
                join_path(index_path("steps", i), "as"),
                f"{name!r} already names the answer of steps[{seen[name]}]",
            )
        if step.action != "prompt" and not seen and step_reads_answers(step):
            ctx.error(
                index_path("steps", i),
                "reads steps.NAME, but no earlier prompt step names its answer with `as`",
            )
        if name is not None:
            seen.setdefault(name, i)


# --- the document ---------------------------------------------------------------------


def _reads(raw_input: Any) -> str | None:
    """What input.read says, for checking for_each: None without input, "?" if invalid."""
    if raw_input is None:
        return None
    read = raw_input.get("read", "text") if isinstance(raw_input, dict) else None
    return read if read in tuple(r.value for r in InputRead) else "?"


def _max_writes(ctx: Ctx, doc: dict) -> int | None:
    """A whole number of writes one run may plan, or `none` for no limit."""
    if doc.get("max_writes") == "none":
        return None
    return int_field(ctx, doc, "", "max_writes", 1, MAX_WRITES_LIMIT, MAX_WRITES_DEFAULT)


def validate(ctx: Ctx, doc: Any) -> WorkflowDefinition:
    """The definition `doc` describes; WorkflowFileError listing every problem."""
    if doc is BAD:
        raise ctx.fail()
    if not isinstance(doc, dict):
        ctx.error(DOCUMENT, f"expected a mapping of workflow fields, got {describe(doc)}")
        raise ctx.fail()
    check_keys(ctx, doc, "", TOP_LEVEL_KEYS)
    name = text_field(ctx, doc, "", "name", required=True, pattern=SLUG, what="workflow name")
    category = text_field(
        ctx, doc, "", "category", required=True, pattern=SLUG, what="category name"
    )
    owner = text_field(ctx, doc, "", "owner", what="owner (a person or a team)")
    description = text_field(ctx, doc, "", "description", default="", blank_ok=True)
    trigger = _trigger(ctx, doc)
    input_spec = _input(ctx, doc)
    reads = _reads(doc.get("input"))
    output = _output(ctx, doc)
    steps = _steps(ctx, doc, reads)
    approval = _approval(ctx, doc)
    graduation = _graduation(ctx, doc)
    retry = _retry(ctx, doc)
    notify = _notify(ctx, doc)
    pause = _pause(ctx, doc)
    rollback = text_field(ctx, doc, "", "rollback", what="rollback description")
    plan_timeout = number_field(ctx, doc, "", "plan_timeout_s", 0, 3600, None, above=True)
    max_writes = _max_writes(ctx, doc)
    runs_on = text_field(ctx, doc, "", "runs_on", pattern=ENGINE_NAME, what="engine or pool name")
    dry_run_prompts = bool_field(ctx, doc, "", "dry_run_prompts", False)
    if ctx.errors:
        raise ctx.fail()
    return WorkflowDefinition(
        name=name,
        category=category,
        owner=owner,
        description=description,
        trigger=trigger,
        input=input_spec,
        output=output,
        steps=steps,
        approval=approval,
        graduation=graduation,
        retry=retry,
        notify=notify,
        pause=pause,
        rollback=rollback,
        plan_timeout_s=float(plan_timeout) if plan_timeout is not None else None,
        max_writes=max_writes,
        runs_on=runs_on,
        dry_run_prompts=dry_run_prompts,
    )
