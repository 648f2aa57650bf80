"""The workflow file's steps: what each built-in action and a custom action take."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import fields
from urllib.parse import urlsplit

from sophmate_desktop.domain.enums import (
    BUILTIN_ACTION_EFFECTS,
    EffectKind,
)
from sophmate_desktop.domain.llm import ANSWER_NAME
from sophmate_desktop.domain.templates import TemplateError, referenced_secrets
from sophmate_desktop.domain.workflow import (
    WorkflowDefinition,
)
from sophmate_desktop.domain.workflow_fields import (
    BAD,
    MISSING,
    SLUG,
    SLUG_RULE,
    Ctx,
    check_keys,
    check_template,
    choice_field,
    describe,
    index_path,
    int_field,
    join_path,
    json_field,
    no_secret_in_argv,
    number_field,
    short,
    take,
    template_field,
    template_map_field,
    templates_field,
    text_field,
)
from sophmate_desktop.domain.workflow_scope import (
    check_addresses,
    check_argv_shell,
)

TOP_LEVEL_KEYS = tuple(f.name for f in fields(WorkflowDefinition))
COMMON_STEP_KEYS = ("action", "name", "connection", "for_each", "customer_facing")
ACTION_KEYS: dict[str, tuple[str, ...]] = {
    "write_file": ("to", "content"),
    "copy_file": ("to",),
    "move_file": ("to",),
    "http_request": ("method", "url", "path", "headers", "body", "json", "timeout_s"),
    "send_email": ("to", "cc", "subject", "body"),
    "run_command": ("argv", "timeout_s", "cwd", "env", "stdin"),
    "prompt": ("system", "prompt", "max_tokens", "json_schema", "as"),
}
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CUSTOM_ACTION_KEYS = ("with", "effect")
# `ai` covers prompt steps, reads at plan time: a plug-in's writes are another kind.
CUSTOM_EFFECTS = tuple(
    k.value for k in EffectKind if k not in (EffectKind.CUSTOMER_FACING, EffectKind.AI)
)
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_url(ctx: Ctx, path: str, url: str) -> None:
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        ctx.error(path, f"{short(url)} is not an http:// or https:// URL")


def has_value(m: dict, key: str) -> bool:
    return m.get(key) is not None


def _write_file(ctx: Ctx, m: dict, p: str) -> None:
    template_field(ctx, m, p, "to", required=True, blank_ok=False)
    template_field(ctx, m, p, "content", required=True)


def _copy_or_move(ctx: Ctx, m: dict, p: str) -> None:
    template_field(ctx, m, p, "to", required=True, blank_ok=False)


def _http_request(ctx: Ctx, m: dict, p: str) -> None:
    choice_field(ctx, m, p, "method", HTTP_METHODS, "POST")
    url = template_field(ctx, m, p, "url", blank_ok=False)
    template_field(ctx, m, p, "path")
    if not has_value(m, "connection"):
        if not has_value(m, "url"):
            ctx.error(
                join_path(p, "url"), "required field is missing (or give a connection and a path)"
            )
        if has_value(m, "path"):
            ctx.error(
                join_path(p, "path"),
                "a path is relative to a connection's base URL: give a connection, or a url",
            )
    else:
        if has_value(m, "url"):
            ctx.error(
                join_path(p, "url"),
                "with a connection, give path (relative to its base URL) instead of url",
            )
        if not has_value(m, "path"):
            ctx.error(
                join_path(p, "path"),
                "required with a connection: the path below its base URL ('/' for the base)",
            )
    if url is not None and "{" not in url:
        check_url(ctx, join_path(p, "url"), url)
    template_map_field(ctx, m, p, "headers", _HEADER_NAME, "header name")
    template_field(ctx, m, p, "body")
    if has_value(m, "json"):
        json_field(ctx, m["json"], join_path(p, "json"))
        if has_value(m, "body"):
            ctx.error(join_path(p, "json"), "give either body or json, not both")
    number_field(ctx, m, p, "timeout_s", 0, 300, 30, above=True)


def _send_email(ctx: Ctx, m: dict, p: str) -> None:
    if not has_value(m, "connection"):
        ctx.error(
            join_path(p, "connection"), "required: send_email sends through a mail connection"
        )
    templates_field(ctx, m, p, "to", required=True)
    templates_field(ctx, m, p, "cc", required=False)
    check_addresses(ctx, m, p, "to")
    check_addresses(ctx, m, p, "cc")
    template_field(ctx, m, p, "subject", required=True)
    template_field(ctx, m, p, "body", required=True)


def _run_command(ctx: Ctx, m: dict, p: str) -> None:
    argv = take(ctx, m, p, "argv", True, nullable=True)
    ap = join_path(p, "argv")
    if isinstance(argv, str):
        ctx.error(
            ap,
            "expected a list, got text: commands run without a shell, so give the program "
            'and each argument separately, e.g. argv: ["python3", "script.py"]',
        )
    elif isinstance(argv, list):
        if not argv:
            ctx.error(ap, "must list at least the program to run")
        for i, arg in enumerate(argv):
            if arg is BAD:
                continue
            if not isinstance(arg, str):
                ctx.error(index_path(ap, i), f"expected text (a template), got {describe(arg)}")
            elif i == 0 and not arg.strip():
                ctx.error(index_path(ap, i), "must not be empty: it names the program")
            else:
                check_template(ctx, index_path(ap, i), arg)
                no_secret_in_argv(ctx, index_path(ap, i), arg)
        check_argv_shell(ctx, argv, ap)
    elif argv is not MISSING and argv is not BAD:
        ctx.error(ap, f"expected a list of arguments, got {describe(argv)}")
    number_field(ctx, m, p, "timeout_s", 0, 86_400, 60, above=True)
    template_field(ctx, m, p, "cwd", blank_ok=False)
    template_map_field(ctx, m, p, "env", _ENV_NAME, "environment variable name")
    template_field(ctx, m, p, "stdin")


def _prompt(ctx: Ctx, m: dict, p: str) -> None:
    if not has_value(m, "connection"):
        ctx.error(join_path(p, "connection"), "required: a prompt goes to an llm connection")
    if m.get("customer_facing") is True:
        ctx.error(
            join_path(p, "customer_facing"),
            "a prompt writes nothing: mark the step that sends its answer customer-facing",
        )
    for key in ("system", "prompt"):
        text = template_field(ctx, m, p, key, required=key == "prompt", blank_ok=key == "system")
        if text is not None and "secret" in text:
            try:
                secrets = referenced_secrets(text)
            except TemplateError:
                secrets = set()  # check_template has named it
            if secrets:
                ctx.error(
                    join_path(p, key),
                    f"a secret ({', '.join(sorted(secrets))}) may not be sent to an AI provider",
                )
    int_field(ctx, m, p, "max_tokens", 1, 200_000, 1024)
    name = text_field(ctx, m, p, "as", what="answer name")
    if name is not None and not ANSWER_NAME.fullmatch(name):
        ctx.error(
            join_path(p, "as"),
            f"{short(name)} is not a valid answer name: lower-case letters, digits and _, "
            "starting with a letter (later steps read it as steps.NAME)",
        )
    if has_value(m, "json_schema"):
        _json_schema(ctx, m["json_schema"], join_path(p, "json_schema"))


def _json_schema(ctx: Ctx, schema: object, path: str) -> None:
    if schema is BAD:
        return
    if not isinstance(schema, dict):
        ctx.error(path, f"expected a JSON Schema (a mapping), got {describe(schema)}")
        return
    import jsonschema  # only files with a json_schema pay for it

    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(part) for part in exc.absolute_path)
        ctx.error(path, f"not a valid JSON Schema{' at ' + where if where else ''}: {exc.message}")


BUILTIN_CHECKS: dict[str, Callable[[Ctx, dict, str], None]] = {
    "write_file": _write_file,
    "copy_file": _copy_or_move,
    "move_file": _copy_or_move,
    "http_request": _http_request,
    "send_email": _send_email,
    "run_command": _run_command,
    "prompt": _prompt,
}


def custom_action(ctx: Ctx, m: dict, p: str, action: str) -> str | None:
    """Check a plug-in action's step; its effect kind (or None)."""
    if not SLUG.fullmatch(action):
        ctx.error(
            join_path(p, "action"),
            f"{short(action)} is not a valid action: use a built-in action "
            f"({', '.join(ACTION_KEYS)}) or a plug-in name ({SLUG_RULE})",
        )
    else:
        close = difflib.get_close_matches(action, list(ACTION_KEYS), n=1, cutoff=0.8)
        if close:
            # A misspelt built-in: its parameters are not "unknown keys" of a plug-in.
            ctx.error(
                join_path(p, "action"), f"unknown action {action!r} (did you mean {close[0]!r}?)"
            )
            return None
    check_keys(ctx, m, p, COMMON_STEP_KEYS + CUSTOM_ACTION_KEYS)
    args = take(ctx, m, p, "with", False, nullable=True)
    if isinstance(args, dict):
        json_field(ctx, args, join_path(p, "with"))
    elif args is not MISSING and args is not BAD:
        ctx.error(join_path(p, "with"), f"expected a mapping of arguments, got {describe(args)}")
    return choice_field(ctx, m, p, "effect", CUSTOM_EFFECTS, None)


def builtin_keys(ctx: Ctx, m: dict, p: str, action: str) -> None:
    kind = BUILTIN_ACTION_EFFECTS[action].value
    for key in CUSTOM_ACTION_KEYS:
        if key in m:
            how = "; give its keys directly" if key == "with" else ""
            ctx.error(
                join_path(p, key),
                f"only plug-in actions take {key!r}: {action} is a built-in {kind} action{how}",
            )
    rest = {k: v for k, v in m.items() if k not in CUSTOM_ACTION_KEYS}
    check_keys(ctx, rest, p, COMMON_STEP_KEYS + ACTION_KEYS[action])


